/// The ranges inside which every kernel and engine computes what it promises, checked where
/// kernel specs, tolerances, periods and points enter (kernel registry, engine factory,
/// `wgf sum`, scenarios): outside them a sum would be NaN or silently wrong, so they are
/// refused with the range and the reason. One home for all of them.
public enum NumericRange {
    /// Length-like kernel parameters (σ of gaussian, c of imq, ℓ of matern, and 1/α of
    /// laplace): their squares and inverse squares are normal doubles, so r²/σ² and the
    /// slopes (κ'(r)/r ∝ 1/σ²) are finite and not NaN at r = 0 (σ = 1e-300 gave NaN).
    public static let scale: ClosedRange<Double> = 1e-150...1e150
    /// The IMQ exponent β: (1 + r²/c²)^β with β below −100 is a Gaussian up to rounding (use
    /// gaussian), and its slope at 0, 2β/c², stays finite over the whole `scale` of c.
    public static let imqExponent: Range<Double> = -100..<0
    /// Relative tolerances the approximate engines promise (mesh, auto): from 1e-9, the finest
    /// the mesh is tested to meet (below, rounding in its grid sums takes over: use direct,
    /// which is exact), to below 1 (a relative error of 1 promises nothing).
    public static let tolerance: Range<Double> = 1e-9..<1
    /// The side L of a periodic box: squared distances inside it, up to d·L²/4, are normal
    /// doubles (L = 1e-300 or 1e300 gave wrong sums or NaN).
    public static let period: ClosedRange<Double> = 1e-150...1e150
    /// The largest coordinate magnitude: squared distances of points within it stay finite
    /// (a simulation whose positions pass it has diverged and stops).
    public static let coordinate = 1e150

    /// "a number in [1e-150, 1e150]".
    /// - Parameter r: the range.
    public static func describe(_ r: ClosedRange<Double>) -> String {
        "a number in [\(formatNumber(r.lowerBound)), \(formatNumber(r.upperBound))]"
    }
    /// "a number in [1e-09, 1)".
    /// - Parameter r: the range.
    public static func describe(_ r: Range<Double>) -> String {
        "a number in [\(formatNumber(r.lowerBound)), \(formatNumber(r.upperBound)))"
    }

    /// Why `tolerance` is refused, or nil.
    /// - Parameter tolerance: a relative tolerance asked of `auto` or `mesh`.
    public static func toleranceProblem(_ tolerance: Double) -> String? {
        NumericRange.tolerance.contains(tolerance)
            ? nil
            : "\(formatNumber(tolerance)) is out of range (\(describe(NumericRange.tolerance)): the mesh is tested down to 1e-9, "
                + "below which its rounding takes over; for exact sums use direct)"
    }

    /// Why `period` is refused, or nil.
    /// - Parameter period: the side L of a periodic box.
    public static func periodProblem(_ period: Double) -> String? {
        NumericRange.period.contains(period)
            ? nil
            : "\(formatNumber(period)) is out of range (\(describe(NumericRange.period)): squared distances in the box must be normal doubles)"
    }
}
