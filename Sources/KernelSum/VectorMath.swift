/// Vectorised elementary functions for the kernels' hot loops, accurate to a couple of ulps
/// (the direct engine is the exact reference, so no speed-for-accuracy trade here).
public enum VectorMath {
    /// Eight doubles.
    public typealias V = SIMD8<Double>
    /// Eight doubles' bit patterns.
    public typealias U = SIMD8<UInt64>

    /// exp on eight lanes (two AVX registers, for instruction-level parallelism): x = n ln2 + r, |r| ≤ ln2/2 (Cody–Waite split of ln2), e^r by its
    /// Taylor polynomial to degree 13 (truncation < 2e-17 relative, evaluated by Estrin's scheme), times 2^n built in the
    /// exponent bits. Arguments below −708 give 0, above 709 give +inf.
    /// - Parameter x: eight arguments.
    @inlinable @inline(__always)
    public static func exp(_ x: V) -> V {
        var clamped = x
        clamped.replace(with: V(repeating: -708.0), where: x .< V(repeating: -708.0))
        clamped.replace(with: V(repeating: 709.0), where: x .> V(repeating: 709.0))
        // n = round(x / ln2) by the 1.5·2^52 trick: its low mantissa bits then hold n.
        let shifter = V(repeating: 6755399441055744.0)
        let t = shifter.multiplyAdd(clamped, V(repeating: 1.4426950408889634))
        let n = t - shifter
        var r = clamped.multiplyAdd(n, V(repeating: -0.6931471803691238))
        r = r.multiplyAdd(n, V(repeating: -1.9082149292705877e-10))
        // e^r by Estrin's scheme: the same polynomial as Horner's rule, but a dependency
        // depth of 4 multiply-adds instead of 13, so the lanes are not latency-bound.
        let r2 = r * r
        let r4 = r2 * r2
        let r8 = r4 * r4
        @inline(__always) func pair(_ a: Double, _ b: Double) -> V { V(repeating: a).multiplyAdd(V(repeating: b), r) }
        let q0 = pair(1, 1)
        let q1 = pair(1.0 / 2, 1.0 / 6)
        let q2 = pair(1.0 / 24, 1.0 / 120)
        let q3 = pair(1.0 / 720, 1.0 / 5040)
        let q4 = pair(1.0 / 40320, 1.0 / 362880)
        let q5 = pair(1.0 / 3_628_800, 1.0 / 39_916_800)
        let q6 = pair(1.0 / 479_001_600, 1.0 / 6_227_020_800)
        let s0 = q0.multiplyAdd(q1, r2)
        let s1 = q2.multiplyAdd(q3, r2)
        let s2 = q4.multiplyAdd(q5, r2)
        let t0 = s0.multiplyAdd(s1, r4)
        let t1 = s2.multiplyAdd(q6, r4)
        let p = t0.multiplyAdd(t1, r8)
        // 2^n: n + 1023 into the exponent field (n sits in the low bits of t's pattern).
        let bits = unsafeBitCast(t, to: U.self) &- unsafeBitCast(shifter, to: U.self)
        let scale = unsafeBitCast((bits &+ U(repeating: 1023)) &<< U(repeating: 52), to: V.self)
        var result = p * scale
        result.replace(with: V(repeating: 0), where: x .< V(repeating: -708.0))
        result.replace(with: V(repeating: .infinity), where: x .> V(repeating: 709.0))
        result.replace(with: x, where: x .!= x)
        return result
    }

    /// sin and cos on eight lanes, for |x| ≤ 2⁴⁰ (the slicing sweep's phases are within ±π):
    /// x = n π/2 + r, n = round(2x/π), |r| ≤ π/4 (Cody–Waite split of π/2 in three parts),
    /// sin r and cos r by their Taylor polynomials to r¹⁵ and r¹⁶ (truncation below 5e-17),
    /// then the quadrant n mod 4 swaps them and sets the signs. Within a few ulp of libm there.
    /// - Parameter x: eight arguments.
    @inlinable @inline(__always)
    public static func sinCos(_ x: V) -> (sin: V, cos: V) {
        let shifter = V(repeating: 6755399441055744.0)
        let t = shifter.multiplyAdd(x, V(repeating: 0.6366197723675814))
        let n = t - shifter
        var r = x.multiplyAdd(n, V(repeating: -1.5707963267341256))
        r = r.multiplyAdd(n, V(repeating: -6.077100506303966e-11))
        r = r.multiplyAdd(n, V(repeating: -2.0222662487959506e-21))
        let r2 = r * r
        let r4 = r2 * r2
        let r8 = r4 * r4
        @inline(__always) func pair(_ a: Double, _ b: Double) -> V { V(repeating: a).multiplyAdd(V(repeating: b), r2) }
        // sin r = r (1 − r²/3! + r⁴/5! − …), cos r = 1 − r²/2! + r⁴/4! − …, Estrin in r².
        let s0 = pair(1, -1.0 / 6).multiplyAdd(pair(1.0 / 120, -1.0 / 5040), r4)
        let s1 = pair(1.0 / 362_880, -1.0 / 39_916_800).multiplyAdd(
            pair(1.0 / 6_227_020_800, -1.0 / 1_307_674_368_000), r4)
        let sine = r * s0.multiplyAdd(s1, r8)
        let c0 = pair(1, -1.0 / 2).multiplyAdd(pair(1.0 / 24, -1.0 / 720), r4)
        let c1 = pair(1.0 / 40320, -1.0 / 3_628_800).multiplyAdd(pair(1.0 / 479_001_600, -1.0 / 87_178_291_200), r4)
        let cosine = c0.multiplyAdd(c1.multiplyAdd(V(repeating: 1.0 / 20_922_789_888_000), r8), r8)
        // The quadrant in n's low bits (t's pattern holds n + 1.5·2⁵²).
        let q = unsafeBitCast(t, to: U.self) & U(repeating: 3)
        let odd = (q & U(repeating: 1)) .== U(repeating: 1)
        var sinOut = sine
        var cosOut = cosine
        sinOut.replace(with: cosine, where: odd)
        cosOut.replace(with: sine, where: odd)
        sinOut.replace(with: -sinOut, where: q .>= U(repeating: 2))
        cosOut.replace(with: -cosOut, where: (q &+ U(repeating: 1)) & U(repeating: 2) .== U(repeating: 2))
        return (sinOut, cosOut)
    }

    /// Natural log on eight lanes: x = 2^k m with m in [√½, √2), log m = 2 atanh(f),
    /// f = (m − 1)/(m + 1), |f| ≤ 0.1716, by its odd series to f²¹ (truncation below 1e-17),
    /// plus k ln2 in two parts (Cody–Waite). Subnormals are rescaled by 2⁵⁴ first. Within a few
    /// ulp of libm; 0 gives −inf, negative numbers and NaN give NaN, +inf gives +inf.
    /// - Parameter x: eight arguments.
    @inlinable @inline(__always)
    public static func log(_ x: V) -> V {
        let tiny = x .< V(repeating: 0x1p-1022)
        var y = x
        y.replace(with: x * V(repeating: 0x1p54), where: tiny)
        var result = logOfNormal(y)
        result.replace(
            with: result - V(repeating: 54 * 0.6931471803691238) - V(repeating: 54 * 1.9082149292705877e-10),
            where: tiny)
        result.replace(with: V(repeating: -.infinity), where: x .== V(repeating: 0))
        result.replace(with: V(repeating: .nan), where: x .< V(repeating: 0))
        result.replace(with: x, where: (x .!= x) .| (x .== V(repeating: .infinity)))
        return result
    }

    /// ``log(_:)`` for positive, normal, finite x only, with no lane masks (the compiler turns
    /// SIMD8 masks into per-lane stack traffic, which dominated the near field's pair loop):
    /// the split x = 2^k m, m in [√½, √2), by integer arithmetic on the bits (as musl's log).
    /// - Parameter x: eight positive, normal, finite arguments.
    @inlinable @inline(__always)
    public static func logOfNormal(_ x: V) -> V {
        // Shifting the bits by 1 − √½ in the exponent field puts m ≥ √2 into the next binade.
        let shifted = unsafeBitCast(x, to: U.self) &+ U(repeating: 0x3FF0_0000_0000_0000 &- 0x3FE6_A09E_667F_3BCD)
        let k = V(SIMD8<Int64>(truncatingIfNeeded: shifted &>> U(repeating: 52))) - V(repeating: 1023)
        let m = unsafeBitCast(
            (shifted & U(repeating: 0x000F_FFFF_FFFF_FFFF)) &+ U(repeating: 0x3FE6_A09E_667F_3BCD), to: V.self)
        let f = (m - V(repeating: 1)) / (m + V(repeating: 1))
        let f2 = f * f
        // Σ_{j≥1} f^{2j}/(2j + 1), Horner from f^20.
        var s = V(repeating: 1.0 / 21)
        s = V(repeating: 1.0 / 19).multiplyAdd(s, f2)
        s = V(repeating: 1.0 / 17).multiplyAdd(s, f2)
        s = V(repeating: 1.0 / 15).multiplyAdd(s, f2)
        s = V(repeating: 1.0 / 13).multiplyAdd(s, f2)
        s = V(repeating: 1.0 / 11).multiplyAdd(s, f2)
        s = V(repeating: 1.0 / 9).multiplyAdd(s, f2)
        s = V(repeating: 1.0 / 7).multiplyAdd(s, f2)
        s = V(repeating: 1.0 / 5).multiplyAdd(s, f2)
        s = V(repeating: 1.0 / 3).multiplyAdd(s, f2)
        s *= f2
        let twoF = f + f
        let mantissaLog = twoF.multiplyAdd(twoF, s)
        let low = k * V(repeating: 1.9082149292705877e-10)
        var result = k * V(repeating: 0.6931471803691238)
        result += mantissaLog + low
        return result
    }
}

/// The multiply-add the vector polynomials of ``VectorMath`` are written with.
extension SIMD8 where Scalar == Double {
    /// self + a·b: one fused multiply-add where the build targets FMA hardware (wgf's own
    /// release builds define `WGF_FMA` with `-target-cpu haswell`), else a multiply and an add.
    /// Without FMA in the instruction set, `addingProduct` becomes a call to libm's `fma` per
    /// lane, which made the portable build's kernel loops 19× slower (docs/performance.md,
    /// "Building"); the polynomials here keep their few-ulp accuracy either way.
    @inlinable @inline(__always)
    public func multiplyAdd(_ a: Self, _ b: Self) -> Self {
        #if WGF_FMA
            return addingProduct(a, b)
        #else
            return self + a * b
        #endif
    }
}
