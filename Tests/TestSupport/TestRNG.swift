/// The seeded generator of the tests (SplitMix64), independent of the library's RandomStream,
/// so that a seed draws the same numbers in every test target and on every machine.
package struct TestRNG: RandomNumberGenerator {
    package var state: UInt64

    /// The sequence of `seed`.
    package init(_ seed: UInt64) { state = seed }

    /// Input `index` of the fuzz seed `seed`: a stream of its own per input, so that input `i`
    /// of seed `s` is the same whatever runs before it.
    package init(seed: UInt64, index: Int) {
        state = seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(index) &* 0xD1B5_4A32_D192_ED03
    }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform on [lo, hi) from the top 53 bits of `next()`.
    package mutating func uniform(_ lo: Double = 0, _ hi: Double = 1) -> Double {
        lo + (hi - lo) * Double(next() >> 11) * 0x1p-53
    }
}

/// A 64-bit linear congruential generator (Knuth's MMIX constants) giving doubles uniform on
/// [0, 1): the sequences the formula scenario tests were written with.
package struct LCGUniform {
    package var state: UInt64

    package init(_ seed: UInt64) { state = seed }

    package mutating func next() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) * 0x1p-53
    }
}
