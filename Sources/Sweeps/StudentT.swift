import Foundation

/// Student's t distribution: its CDF from the regularised incomplete beta function, and its
/// quantiles by inverting the CDF, for any degrees of freedom ν > 0 (no table).
public enum StudentT {
    /// P(T ≤ t) for ν = `degreesOfFreedom`: 1 − ½ I_{ν/(ν+t²)}(ν/2, ½) for t ≥ 0, by symmetry below.
    public static func cdf(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        let tail = upperTail(abs(t), nu)
        return t >= 0 ? 1 - tail : tail
    }

    /// P(T > t) for t ≥ 0, computed directly (no cancellation in the far tail).
    static func upperTail(_ t: Double, _ nu: Double) -> Double {
        if t.isInfinite { return 0 }
        return 0.5 * regularizedIncompleteBeta(nu / (nu + t * t), a: nu / 2, b: 0.5)
    }

    /// The p-quantile t_{p, ν}: the t with P(T ≤ t) = p, for 0 < p < 1 and ν > 0 (NaN outside),
    /// e.g. t_{0.975, 1} = 12.7062, t_{0.975, 4} = 2.7764, t_{0.975, 29} = 2.0452.
    ///
    /// Found by bisection on the upper tail (monotone in t) to the last bits of a double: a
    /// hundred-odd evaluations of the incomplete beta function, once per sample size.
    public static func quantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
        guard p > 0, p < 1, nu > 0, nu.isFinite else { return .nan }
        if p == 0.5 { return 0 }
        if p < 0.5 { return -quantile(1 - p, degreesOfFreedom: nu) }
        let q = 1 - p
        var lo = 0.0
        var hi = 1.0
        while upperTail(hi, nu) > q {
            lo = hi
            hi *= 2
            if hi > 1e300 { return .infinity }
        }
        for _ in 0..<2000 {
            let mid = 0.5 * (lo + hi)
            guard mid > lo && mid < hi else { break }
            if upperTail(mid, nu) > q { lo = mid } else { hi = mid }
        }
        return 0.5 * (lo + hi)
    }

    /// I_x(a, b), the regularised incomplete beta function, by its continued fraction
    /// (modified Lentz), on the side of x where it converges fast (Numerical Recipes §6.4).
    static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
        if x < (a + 1) / (a + b + 2) {
            return exp(logFront) * betaContinuedFraction(x, a, b) / a
        }
        return 1 - exp(logFront) * betaContinuedFraction(1 - x, b, a) / b
    }

    static func betaContinuedFraction(_ x: Double, _ a: Double, _ b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...10_000 {
            let m = Double(m)
            let m2 = 2 * m
            var aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return h
    }
}
