import Foundation

/// Where the points of a kernel sum, a spatial hash or a flow live: all of R^d, or the periodic
/// box [0, L)^d (the torus of side L, on which x and x + L·e_a are the same point).
///
/// In the box a position is kept in [0, L)^d by ``wrap(_:)-(Double)`` and the difference of two
/// points is taken through its minimum image, coordinate by coordinate (``minimumImage(_:)``):
/// the representative of t = y_a − x_a modulo L nearest to 0. A kernel sum in the box is then
/// s(y) = Σ_j w_j k(mi(y − x_j)), one image per pair (no Ewald sum). The two maps are written
/// once, here; the engines' loops call them with the box's side read into a local.
///
/// A struct rather than an enum, so that it can grow (a rank's slab of the box in a distributed
/// run) without changing how `.free`, `.periodic(length:)` and `==` read.
public struct Domain: Sendable, Equatable, CustomStringConvertible {
    /// L, the side of the periodic box, or nil for R^d.
    public let period: Double?
    /// 1/L, rounded once (0 in R^d): the minimum image multiplies by it instead of dividing by
    /// L, which in the direct engine's eight-lane loop would cost more than the kernel.
    @usableFromInline let inversePeriod: Double

    /// R^d: no box, plain differences.
    public static let free = Domain(period: nil)

    /// The periodic box [0, L)^d.
    /// - Parameter length: L, positive and finite (scenarios and the engine factory also keep
    ///   it within ``NumericRange/period``, where squared distances in the box are normal).
    public static func periodic(length: Double) -> Domain { Domain(period: length) }

    /// The periodic box of side `period`, or R^d when it is nil (a setting that may be absent).
    /// - Parameter period: L, positive and finite, or nil. Any other L is a caller's bug: it
    ///   stops with a message in every build.
    public init(period: Double?) {
        guard period.map({ $0 > 0 && $0.isFinite }) ?? true else {
            fatalError("Domain: a box of period \(period!) (positive and finite)")
        }
        self.period = period
        inversePeriod = period.map { 1 / $0 } ?? 0
    }

    /// Whether this is the periodic box.
    public var isPeriodic: Bool { period != nil }

    /// "R^d", or "periodic box [0, L)^d" (run.json).
    public var description: String { period.map { "periodic box [0, \(formatNumber($0)))^d" } ?? "R^d" }

    /// t modulo L in [0, L) (t itself in R^d); see ``wrap(_:period:)``.
    /// - Parameter t: a coordinate.
    @inlinable @inline(__always)
    public func wrap(_ t: Double) -> Double {
        guard let l = period else { return t }
        return Domain.wrap(t, period: l)
    }

    /// Wraps every coordinate into [0, L) (nothing in R^d): a flow's positions after a step.
    /// - Parameter x: coordinates, in any layout.
    public func wrap(_ x: inout [Double]) {
        guard let l = period else { return }
        for k in 0..<x.count { x[k] = Domain.wrap(x[k], period: l) }
    }

    /// The minimum image of a difference t of two coordinates (t itself in R^d),
    ///
    ///     mi(t) = t − L·⌊t/L⌉   (⌊·⌉: to the nearest integer, ties to even),
    ///
    /// the representative of t modulo L nearest to 0, so |mi(t)| ≤ L/2. It is computed as
    /// t − L·⌊t·(1/L)⌉ with 1/L rounded once: a multiplication, where a division would cost the
    /// vectorised direct sum more than its kernel. Near |t| = L/2, where the two images are
    /// equally near, the rounding of t·(1/L) decides which one is taken. For a difference of two
    /// points in [0, L) (|t| < L) the integer is −1, 0 or 1 and t − L·k is exact.
    /// - Parameter t: y_a − x_a, the difference along one axis.
    @inlinable @inline(__always)
    public func minimumImage(_ t: Double) -> Double {
        guard let l = period else { return t }
        return Domain.minimumImage(t, period: l, inverse: inversePeriod)
    }

    /// The wrap into the box, t mod L = t − L⌊t/L⌋ in [0, L).
    ///
    /// `fmod` gives t − L·trunc(t/L) exactly, so a point any number of periods away keeps its
    /// place (t − L⌊t/L⌋ in floating point loses it once |t|/L nears 2⁵²); a negative remainder
    /// then takes one rounding, u + L, which can reach L: that is 0. For t in [−L, 2L), a step
    /// out of the box, the result is t, t − L (exact) or t + L (rounded once). −0 becomes +0
    /// (the `+ 0`), and NaN stays NaN, so a position that diverged is still seen.
    /// - Parameters:
    ///   - t: a coordinate.
    ///   - l: L, positive and finite.
    @inlinable @inline(__always)
    public static func wrap(_ t: Double, period l: Double) -> Double {
        var u = fmod(t, l)
        if u < 0 { u += l }
        if u >= l { u = 0 }
        return u + 0
    }

    /// The one minimum-image map, mi(t) = t − L·⌊t·(1/L)⌉ (see ``minimumImage(_:)``), on one
    /// coordinate or on eight lanes (`SIMD8<Double>`, the direct engine's loop). Loops read L and
    /// 1/L into locals and call it.
    /// - Parameters:
    ///   - t: y_a − x_a, or eight of them.
    ///   - l: L (in every lane).
    ///   - inverse: 1/L, rounded once (in every lane).
    @inlinable @inline(__always)
    static func minimumImage<T: BoxArithmetic>(_ t: T, period l: T, inverse: T) -> T {
        t - l * (t * inverse).rounded(.toNearestOrEven)
    }
}

/// What the minimum image (`Domain.minimumImage(_:period:inverse:)`) computes on: one
/// `Double`, or eight lanes (`SIMD8<Double>`) in the direct engine's loop.
@usableFromInline protocol BoxArithmetic {
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    func rounded(_ rule: FloatingPointRoundingRule) -> Self
}

extension Double: BoxArithmetic {}
extension SIMD8: BoxArithmetic where Scalar == Double {}
