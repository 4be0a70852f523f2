/// Vectorised elementary functions for the kernels' hot loops, accurate to a couple of ulps
/// (the direct engine is the exact reference, so no speed-for-accuracy trade here).
public enum VectorMath {
    public typealias V = SIMD8<Double>
    public typealias U = SIMD8<UInt64>

    /// exp on eight lanes (two AVX registers, for instruction-level parallelism): x = n ln2 + r, |r| ≤ ln2/2 (Cody–Waite split of ln2), e^r by its
    /// Taylor polynomial to degree 13 (truncation < 2e-17 relative), times 2^n built in the
    /// exponent bits. Arguments below −708 give 0, above 709 give +inf.
    @inlinable @inline(__always)
    public static func exp(_ x: V) -> V {
        var clamped = x
        clamped.replace(with: V(repeating: -708.0), where: x .< V(repeating: -708.0))
        clamped.replace(with: V(repeating: 709.0), where: x .> V(repeating: 709.0))
        // n = round(x / ln2) by the 1.5·2^52 trick: its low mantissa bits then hold n.
        let shifter = V(repeating: 6755399441055744.0)
        let t = shifter.addingProduct(clamped, V(repeating: 1.4426950408889634))
        let n = t - shifter
        var r = clamped.addingProduct(n, V(repeating: -0.6931471803691238))
        r = r.addingProduct(n, V(repeating: -1.9082149292705877e-10))
        var p = V(repeating: 1.0 / 6227020800.0)
        p = V(repeating: 1.0 / 479001600.0).addingProduct(p, r)
        p = V(repeating: 1.0 / 39916800.0).addingProduct(p, r)
        p = V(repeating: 1.0 / 3628800.0).addingProduct(p, r)
        p = V(repeating: 1.0 / 362880.0).addingProduct(p, r)
        p = V(repeating: 1.0 / 40320.0).addingProduct(p, r)
        p = V(repeating: 1.0 / 5040.0).addingProduct(p, r)
        p = V(repeating: 1.0 / 720.0).addingProduct(p, r)
        p = V(repeating: 1.0 / 120.0).addingProduct(p, r)
        p = V(repeating: 1.0 / 24.0).addingProduct(p, r)
        p = V(repeating: 1.0 / 6.0).addingProduct(p, r)
        p = V(repeating: 0.5).addingProduct(p, r)
        p = V(repeating: 1.0).addingProduct(p, r)
        p = V(repeating: 1.0).addingProduct(p, r)
        // 2^n: n + 1023 into the exponent field (n sits in the low bits of t's pattern).
        let bits = unsafeBitCast(t, to: U.self) &- unsafeBitCast(shifter, to: U.self)
        let scale = unsafeBitCast((bits &+ U(repeating: 1023)) &<< U(repeating: 52), to: V.self)
        var result = p * scale
        result.replace(with: V(repeating: 0), where: x .< V(repeating: -708.0))
        result.replace(with: V(repeating: .infinity), where: x .> V(repeating: 709.0))
        result.replace(with: x, where: x .!= x)
        return result
    }
}
