import Foundation

/// A reproducible random stream. Streams are keyed by (seed, purpose, a, b): e.g. the noise
/// of particle i at step n is `RandomStream(seed, .noise, n, i)`. Each particle's randomness
/// is thus independent of how particles are split across threads, so runs are identical for
/// any thread count. The generator is SplitMix64 (Steele, Lea & Flood 2014) started from a
/// hash of the key.
public struct RandomStream: Sendable {
    /// What the numbers are for: streams of different purposes are independent.
    public enum Purpose: UInt64, Sendable {
        /// The particles' initial positions.
        case initialisation = 1
        /// Samples that stand for the target or its data (the MMD flow's target sample, a game's
        /// reference sample, a two-layer network's teacher and data).
        case targetSample = 2
        /// Samples a metric draws.
        case metricSample = 3
        /// The flows' noise (Langevin, games, MMD noise injection, initial thermal velocities).
        case noise = 4
        /// Anything else a flow or a test draws.
        case flow = 5
        /// The sliced engine's directions.
        case slicing = 6
        /// A data target's minibatches (keyed by the step or the epoch).
        case minibatch = 7
    }
    private var state: UInt64
    private var spareNormal: Double?

    /// The stream keyed by (seed, purpose, a, b).
    /// - Parameters:
    ///   - seed: the scenario's seed.
    ///   - purpose: what the numbers are for.
    ///   - a: the first key (a step, a block).
    ///   - b: the second key (a particle).
    public init(seed: UInt64, _ purpose: Purpose, _ a: Int = 0, _ b: Int = 0) {
        var h = RandomStream.mix(seed &+ 0x9E37_79B9_7F4A_7C15)
        h = RandomStream.mix(h ^ (purpose.rawValue &* 0xD1B5_4A32_D192_ED03))
        h = RandomStream.mix(h ^ (UInt64(bitPattern: Int64(a)) &* 0x94D0_49BB_1331_11EB))
        h = RandomStream.mix(h ^ (UInt64(bitPattern: Int64(b)) &* 0xBF58_476D_1CE4_E5B9))
        state = h
    }

    @inline(__always) static func mix(_ z0: UInt64) -> UInt64 {
        var z = z0
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return RandomStream.mix(state)
    }

    /// Uniform on [0, 1) with 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform on the open interval (0, 1).
    public mutating func openUniform() -> Double { (Double(next() >> 12) + 0.5) * 0x1p-52 }

    /// Standard normal by the Box–Muller transform (pairs; the second is kept for the next call).
    public mutating func normal() -> Double {
        if let s = spareNormal {
            spareNormal = nil
            return s
        }
        let u = openUniform()
        let v = uniform()
        let r = (-2 * log(u)).squareRoot()
        spareNormal = r * sin(2 * Double.pi * v)
        return r * cos(2 * Double.pi * v)
    }

    /// An index in 0..<n (by `next() % n`: biased by at most n/2⁶⁴).
    /// - Parameter n: the count, at least 1.
    public mutating func index(below n: Int) -> Int { Int(next() % UInt64(n)) }
}
