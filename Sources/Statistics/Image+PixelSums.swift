import ImageIO

/// Exact per-channel sums of one photo: Σx and Σx² for R, G and B.
struct ChannelSums: Equatable {
    var sum: (UInt64, UInt64, UInt64) = (0, 0, 0)
    var sumOfSquares: (UInt64, UInt64, UInt64) = (0, 0, 0)

    static func == (a: ChannelSums, b: ChannelSums) -> Bool {
        a.sum == b.sum && a.sumOfSquares == b.sumOfSquares
    }
}

extension Image {
    /// Σx and Σx² per channel, exact in integers.
    ///
    /// The interleaved bytes are read 48 at a time (16 pixels) as three 16-lane vectors; lane
    /// `i` of vector `j` always holds channel `(16j + i) % 3`, so the vectors accumulate in
    /// 32-bit lanes and fold into channels only when flushed. A lane gains at most 255² per
    /// block, so flushing every 65,536 blocks keeps the 32-bit lanes from overflowing.
    func channelSums() -> ChannelSums {
        var result = ChannelSums()
        var sums: [UInt64] = [0, 0, 0]
        var squares: [UInt64] = [0, 0, 0]
        pixels.withUnsafeBytes { raw in
            let base = raw.baseAddress!
            let blockCount = raw.count / 48
            var block = 0
            while block < blockCount {
                let chunkEnd = min(blockCount, block + 65_536)
                var s0 = SIMD16<UInt32>(), s1 = SIMD16<UInt32>(), s2 = SIMD16<UInt32>()
                var q0 = SIMD16<UInt32>(), q1 = SIMD16<UInt32>(), q2 = SIMD16<UInt32>()
                while block < chunkEnd {
                    let p = base + block * 48
                    let v0 = SIMD16<UInt32>(truncatingIfNeeded: p.loadUnaligned(as: SIMD16<UInt8>.self))
                    let v1 = SIMD16<UInt32>(truncatingIfNeeded: p.loadUnaligned(fromByteOffset: 16, as: SIMD16<UInt8>.self))
                    let v2 = SIMD16<UInt32>(truncatingIfNeeded: p.loadUnaligned(fromByteOffset: 32, as: SIMD16<UInt8>.self))
                    s0 &+= v0; s1 &+= v1; s2 &+= v2
                    q0 &+= v0 &* v0; q1 &+= v1 &* v1; q2 &+= v2 &* v2
                    block += 1
                }
                for (j, (s, q)) in [(s0, q0), (s1, q1), (s2, q2)].enumerated() {
                    for lane in 0..<16 {
                        let channel = (16 * j + lane) % 3
                        sums[channel] &+= UInt64(s[lane])
                        squares[channel] &+= UInt64(q[lane])
                    }
                }
            }
            // The tail: fewer than 16 pixels, always starting at channel 0.
            for offset in (blockCount * 48)..<raw.count {
                let x = UInt64(raw[offset])
                sums[offset % 3] &+= x
                squares[offset % 3] &+= x * x
            }
        }
        result.sum = (sums[0], sums[1], sums[2])
        result.sumOfSquares = (squares[0], squares[1], squares[2])
        return result
    }

    /// A 64-bit hash of the size and decoded RGB bytes: equal photos always hash equal, and
    /// different photos collide with probability about 2⁻⁶⁴ per pair (≈ 10⁻¹⁰ over 50,000
    /// photos). Hashing decoded pixels (not file bytes) matches the same picture saved with
    /// different metadata or in another lossless format; a re-compressed JPEG does not match.
    ///
    /// Four independent lanes each fold 8-byte words by xor, an odd multiplier and an
    /// xor-shift (each step a bijection, so no word is lost), then the lanes, the tail bytes
    /// and the dimensions are mixed together.
    func contentHash() -> UInt64 {
        let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
        @inline(__always) func mix(_ lane: UInt64, _ word: UInt64) -> UInt64 {
            var h = (lane ^ word) &* multiplier
            h ^= h >> 29
            return h
        }
        var lanes: (UInt64, UInt64, UInt64, UInt64) = (
            0x243F_6A88_85A3_08D3, 0x1319_8A2E_0370_7344, 0xA409_3822_299F_31D0, 0x082E_FA98_EC4E_6C89
        )
        var tail: UInt64 = 0
        pixels.withUnsafeBytes { raw in
            let base = raw.baseAddress!
            let groupCount = raw.count / 32
            for g in 0..<groupCount {
                let p = base + g * 32
                lanes.0 = mix(lanes.0, p.loadUnaligned(as: UInt64.self))
                lanes.1 = mix(lanes.1, p.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                lanes.2 = mix(lanes.2, p.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
                lanes.3 = mix(lanes.3, p.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
            }
            for offset in (groupCount * 32)..<raw.count {
                tail = mix(tail, UInt64(raw[offset]) &+ UInt64(offset))
            }
        }
        var h = mix(UInt64(width) << 32 | UInt64(height), lanes.0)
        h = mix(h, lanes.1)
        h = mix(h, lanes.2)
        h = mix(h, lanes.3)
        h = mix(h, tail)
        return mix(h, UInt64(pixels.count))
    }
}
