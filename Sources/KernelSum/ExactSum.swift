import Communication

/// The exact sum of doubles, independent of the order they are added in: a fixed-point
/// accumulator with a digit of 32 bits for every 32 binary places a double can occupy
/// (2^−1074 to 2^1024), in the spirit of Kulisch's long accumulator. Each double m·2^e
/// (m < 2^53 an integer) adds m to the digits at bit e + 1074 exactly; digits are kept in
/// Int64 with room for 2^30 additions between carry propagations.
///
/// Why: a sum over particles that several ranks hold in different sets (a mesh's total weight)
/// must come out the same whatever the ranks, and the same as one process. Adding the ranks'
/// accumulators digit by digit is exact, so ``value`` is one function of the exact sum.
public struct ExactSum: Sendable {
    /// 32-bit digits, least significant first; after ``normalize()`` every digit but the last
    /// lies in [0, 2^32) and the last carries the sign.
    public internal(set) var digits = [Int64](repeating: 0, count: ExactSum.digitCount)
    /// Additions since the last carry propagation.
    private var pending = 0
    /// A NaN or an infinity among the terms (their IEEE sum, which is then the value).
    var special = 0.0

    /// 2100 bits in digits of 32, with two spare digits for carries out of the top.
    static let digitCount = 68

    /// The sum of nothing.
    public init() {}

    /// The sum of `terms`.
    public init<S: Sequence>(_ terms: S) where S.Element == Double {
        for x in terms { add(x) }
    }

    /// Adds `x` exactly (NaN and ±infinity are kept aside and returned by ``value``).
    public mutating func add(_ x: Double) {
        guard x.isFinite else {
            special += x
            return
        }
        guard x != 0 else { return }
        // x = m · 2^(exponent − 52), subnormals included (their exponent is −1022).
        let bits = x.bitPattern
        let biased = Int((bits >> 52) & 0x7ff)
        var m = bits & ((1 << 52) - 1)
        if biased != 0 { m |= 1 << 52 }
        let offset = max(biased, 1) - 1  // bit of m's least significant digit above 2^−1074
        let digit = offset / 32
        let shift = UInt64(offset % 32)
        // m << shift spans at most 85 bits: three digits (the UInt64 shift keeps bits 0…63).
        let shifted = m << shift
        let low = shifted & 0xffff_ffff
        let middle = shifted >> 32
        let high = shift == 0 ? 0 : m >> (64 - shift)
        let sign: Int64 = x < 0 ? -1 : 1
        digits[digit] += sign * Int64(low)
        digits[digit + 1] += sign * Int64(middle)
        digits[digit + 2] += sign * Int64(high)
        pending += 1
        if pending >= 1 << 30 { normalize() }
    }

    /// Adds another accumulator (another rank's) exactly.
    public mutating func add(_ other: ExactSum) {
        var other = other
        other.normalize()
        normalize()
        for k in 0..<digits.count { digits[k] += other.digits[k] }
        special += other.special
        normalize()
    }

    /// Propagates carries so that every digit but the last lies in [0, 2^32): one
    /// representation per exact sum.
    public mutating func normalize() {
        var carry: Int64 = 0
        for k in 0..<(digits.count - 1) {
            let v = digits[k] + carry
            carry = v >> 32  // floor division by 2^32 (arithmetic shift)
            digits[k] = v - (carry << 32)
        }
        digits[digits.count - 1] += carry
        pending = 0
    }

    /// The exact sum rounded to a double by one fixed procedure on the normalised digits (the
    /// magnitude's digits added from the least significant up): the same double for the same
    /// exact sum, within an ulp or two of it. NaN or ±infinity if a term was.
    public var value: Double {
        guard special == 0 else { return special }
        var copy = self
        copy.normalize()
        let negative = copy.digits.last! < 0
        if negative {
            // Two's complement of the whole number, then normalised again: the magnitude.
            for k in 0..<copy.digits.count { copy.digits[k] = -copy.digits[k] }
            copy.normalize()
        }
        var result = 0.0
        for (k, digit) in copy.digits.enumerated() where digit != 0 {
            result += Double(digit) * Double(sign: .plus, exponent: 32 * k - 1074, significand: 1)
        }
        return negative ? -result : result
    }
}

extension ExactSum {
    /// The exact sum over every rank's accumulator (collective): the normalised digits are
    /// integers below 2^32 in magnitude, exact as doubles, and added exactly.
    public func acrossRanks(_ communicator: any Communicator) -> ExactSum {
        ExactSum.acrossRanks([self], communicator)[0]
    }

    /// Several accumulators summed over the ranks in one gather (collective; the same count on
    /// every rank).
    public static func acrossRanks(_ sums: [ExactSum], _ communicator: any Communicator) -> [ExactSum] {
        guard communicator.size > 1 else { return sums }
        let k = digitCount
        // Per accumulator its digits, then the IEEE sum of its NaN or infinite terms.
        let mine = sums.flatMap { sum -> [Double] in
            var normal = sum
            normal.normalize()
            return normal.digits.map(Double.init) + [normal.special]
        }
        let all = communicator.allGather(mine, counts: [Int](repeating: mine.count, count: communicator.size))
        var totals = [ExactSum](repeating: ExactSum(), count: sums.count)
        for r in 0..<communicator.size {
            for s in totals.indices {
                let base = (r * sums.count + s) * (k + 1)
                var other = ExactSum()
                for j in 0..<k { other.digits[j] = Int64(all[base + j]) }
                other.special = all[base + k]
                totals[s].add(other)
            }
        }
        return totals
    }
}
