/// SplitMix64 (Steele, Lea and Flood 2014): a tiny generator whose output is fixed by its
/// definition, so everything drawn from it (synthetic data sets, shuffles, the seeds of the
/// model's generator, test data) is identical on every machine for a given seed.
///
/// The one definition of the toolkit's seeded mixing: the data side (synthesis, the shuffle
/// order, worker slices, partitions), the model side (`RandomSource`'s seeding) and the tests
/// all take it from here.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.finalize(state)
    }

    /// SplitMix64's output function: a bijection of 64-bit words that spreads every input bit
    /// over the whole word (Stafford's variant 13 of MurmurHash3's finaliser).
    @inline(__always)
    public static func finalize(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform Double in [0, 1), from the top 53 bits (no platform-dependent paths).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(UInt64(1) << 53) }

    /// A uniform Double in `range`.
    public mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + unit() * (range.upperBound - range.lowerBound)
    }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// A uniform index below `count`.
    public mutating func index(_ count: Int) -> Int { Int(next() % UInt64(count)) }
}

/// MurmurHash3's 64-bit finaliser (fmix64): spreads every bit of `value` over the whole word.
/// Used to derive independent seeds from (seed, index) pairs, where plain `seed + index` would
/// give shifted copies of one stream, and to hash names into worker slices and partitions.
/// (It differs from ``SplitMix64/finalize(_:)`` in its constants; each keeps the outputs that
/// were made with it.)
public func murmurFinalize(_ value: UInt64) -> UInt64 {
    var h = value
    h ^= h >> 33
    h &*= 0xff51_afd7_ed55_8ccd
    h ^= h >> 33
    h &*= 0xc4ce_b9fe_1a85_ec53
    h ^= h >> 33
    return h
}
