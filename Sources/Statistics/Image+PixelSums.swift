import ImageIO

/// What one pass over a photo's bytes gives: exact per-channel Σx and Σx² for R, G and B,
/// and the content hash used to find duplicates.
struct PhotoSummary {
    var sum: (UInt64, UInt64, UInt64) = (0, 0, 0)
    var sumOfSquares: (UInt64, UInt64, UInt64) = (0, 0, 0)
    var contentHash: UInt64 = 0
}

extension Image {
    /// Σx and Σx² per channel, exact in integers, and the content hash, in one read of the
    /// bytes (the photo is 3/4 of a sample's bytes, so reading it twice would cost a second
    /// pass over memory).
    ///
    /// The interleaved bytes are read 48 at a time (16 pixels) as three vectors of eight
    /// 16-bit lanes. Masking and shifting split each vector into its even and odd bytes
    /// without any widening conversion (the standard library's converts lane by lane); a
    /// square of a byte fits 16 bits, and splitting again into 32-bit lanes sums the squares.
    /// Byte `b` of a block always belongs to channel `b % 3`, so lanes fold into channels
    /// only when flushed. Limits: 16-bit sums gain ≤ 255 per block (flushed every 256 blocks),
    /// 32-bit sums of squares ≤ 255² per block (flushed every 65,536 blocks).
    /// Assumes a little-endian machine (every Swift target this toolkit supports).
    func summary() -> PhotoSummary {
        var hash = ContentHasher()
        var sums: [UInt64] = [0, 0, 0]
        var squares: [UInt64] = [0, 0, 0]
        pixels.withUnsafeBytes { raw in
            let base = raw.baseAddress!
            let blockCount = raw.count / 48
            let low8 = SIMD8<UInt16>(repeating: 0x00FF)
            let low16 = SIMD4<UInt32>(repeating: 0xFFFF)
            var block = 0
            while block < blockCount {
                // [vector j][kind]: kind 0 = bytes 4m, 1 = 4m+1, 2 = 4m+2, 3 = 4m+3 of the vector.
                var wideSums = [SIMD4<UInt32>](repeating: .zero, count: 12)
                var wideSquares = [SIMD4<UInt32>](repeating: .zero, count: 12)
                let squaresEnd = min(blockCount, block + 65_536)
                while block < squaresEnd {
                    let sumsEnd = min(squaresEnd, block + 256)
                    var even = (SIMD8<UInt16>(), SIMD8<UInt16>(), SIMD8<UInt16>())
                    var odd = (SIMD8<UInt16>(), SIMD8<UInt16>(), SIMD8<UInt16>())
                    var squareParts = (
                        SIMD4<UInt32>(), SIMD4<UInt32>(), SIMD4<UInt32>(), SIMD4<UInt32>(), SIMD4<UInt32>(),
                        SIMD4<UInt32>(), SIMD4<UInt32>(), SIMD4<UInt32>(), SIMD4<UInt32>(), SIMD4<UInt32>(),
                        SIMD4<UInt32>(), SIMD4<UInt32>())
                    @inline(__always) func squaresOf(_ v: SIMD8<UInt16>) -> (SIMD4<UInt32>, SIMD4<UInt32>) {
                        let products = unsafeBitCast(v &* v, to: SIMD4<UInt32>.self)
                        return (products & low16, products &>> 16)
                    }
                    while block < sumsEnd {
                        let p = base + block * 48
                        let v0 = p.loadUnaligned(as: SIMD8<UInt16>.self)
                        let v1 = p.loadUnaligned(fromByteOffset: 16, as: SIMD8<UInt16>.self)
                        let v2 = p.loadUnaligned(fromByteOffset: 32, as: SIMD8<UInt16>.self)
                        hash.combine(
                            unsafeBitCast(v0, to: SIMD2<UInt64>.self), unsafeBitCast(v1, to: SIMD2<UInt64>.self),
                            unsafeBitCast(v2, to: SIMD2<UInt64>.self))
                        let e0 = v0 & low8, o0 = v0 &>> 8
                        let e1 = v1 & low8, o1 = v1 &>> 8
                        let e2 = v2 & low8, o2 = v2 &>> 8
                        even.0 &+= e0; even.1 &+= e1; even.2 &+= e2
                        odd.0 &+= o0; odd.1 &+= o1; odd.2 &+= o2
                        var (l, h) = squaresOf(e0); squareParts.0 &+= l; squareParts.2 &+= h
                        (l, h) = squaresOf(o0); squareParts.1 &+= l; squareParts.3 &+= h
                        (l, h) = squaresOf(e1); squareParts.4 &+= l; squareParts.6 &+= h
                        (l, h) = squaresOf(o1); squareParts.5 &+= l; squareParts.7 &+= h
                        (l, h) = squaresOf(e2); squareParts.8 &+= l; squareParts.10 &+= h
                        (l, h) = squaresOf(o2); squareParts.9 &+= l; squareParts.11 &+= h
                        block += 1
                    }
                    for (j, (e, o)) in [(even.0, odd.0), (even.1, odd.1), (even.2, odd.2)].enumerated() {
                        let e32 = unsafeBitCast(e, to: SIMD4<UInt32>.self)
                        let o32 = unsafeBitCast(o, to: SIMD4<UInt32>.self)
                        wideSums[4 * j] &+= e32 & low16
                        wideSums[4 * j + 1] &+= o32 & low16
                        wideSums[4 * j + 2] &+= e32 &>> 16
                        wideSums[4 * j + 3] &+= o32 &>> 16
                    }
                    let parts = [
                        squareParts.0, squareParts.1, squareParts.2, squareParts.3, squareParts.4, squareParts.5,
                        squareParts.6, squareParts.7, squareParts.8, squareParts.9, squareParts.10, squareParts.11,
                    ]
                    for k in 0..<12 { wideSquares[k] &+= parts[k] }
                }
                // Fold: accumulator 4j + kind, lane m holds byte 16j + 4m + kind of each block.
                for j in 0..<3 {
                    for kind in 0..<4 {
                        for m in 0..<4 {
                            let channel = (16 * j + 4 * m + kind) % 3
                            sums[channel] &+= UInt64(wideSums[4 * j + kind][m])
                            squares[channel] &+= UInt64(wideSquares[4 * j + kind][m])
                        }
                    }
                }
            }
            // The tail: fewer than 16 pixels, always starting at channel 0.
            for offset in (blockCount * 48)..<raw.count {
                let x = UInt64(raw[offset])
                sums[offset % 3] &+= x
                squares[offset % 3] &+= x * x
                hash.combineTail(raw[offset], at: offset)
            }
        }
        var result = PhotoSummary()
        result.contentHash = hash.finalize(width: width, height: height, byteCount: pixels.count)
        result.sum = (sums[0], sums[1], sums[2])
        result.sumOfSquares = (squares[0], squares[1], squares[2])
        return result
    }

}

/// A 64-bit hash of a photo's size and decoded RGB bytes: equal photos always hash equal, and
/// different photos collide with probability about 2⁻⁶⁴ per pair (≈ 10⁻¹⁰ over 50,000 photos).
/// Hashing decoded pixels (not file bytes) matches the same picture saved with different
/// metadata or in another lossless format; a re-compressed JPEG does not match.
///
/// Six independent lanes each fold one 8-byte word of every 48-byte block by xor, an odd
/// multiplier and an xor-shift (each step a bijection, so no word's change is lost), then the
/// lanes, the tail bytes and the dimensions are mixed together.
struct ContentHasher {
    private static let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
    private var lanes: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (
        0x243F_6A88_85A3_08D3, 0x1319_8A2E_0370_7344, 0xA409_3822_299F_31D0, 0x082E_FA98_EC4E_6C89,
        0x4528_21E6_38D0_1377, 0xBE54_66CF_34E9_0C6C
    )
    private var tail: UInt64 = 0

    @inline(__always) private static func mix(_ lane: UInt64, _ word: UInt64) -> UInt64 {
        var h = (lane ^ word) &* multiplier
        h ^= h >> 29
        return h
    }

    /// Folds one 48-byte block, given as three pairs of words.
    @inline(__always) mutating func combine(_ a: SIMD2<UInt64>, _ b: SIMD2<UInt64>, _ c: SIMD2<UInt64>) {
        lanes.0 = Self.mix(lanes.0, a[0])
        lanes.1 = Self.mix(lanes.1, a[1])
        lanes.2 = Self.mix(lanes.2, b[0])
        lanes.3 = Self.mix(lanes.3, b[1])
        lanes.4 = Self.mix(lanes.4, c[0])
        lanes.5 = Self.mix(lanes.5, c[1])
    }

    /// Folds one byte after the last whole block, with its offset.
    mutating func combineTail(_ byte: UInt8, at offset: Int) {
        tail = Self.mix(tail, UInt64(byte) &+ UInt64(offset) << 8)
    }

    func finalize(width: Int, height: Int, byteCount: Int) -> UInt64 {
        var h = Self.mix(UInt64(width) << 32 | UInt64(height), lanes.0)
        for lane in [lanes.1, lanes.2, lanes.3, lanes.4, lanes.5, tail, UInt64(byteCount)] { h = Self.mix(h, lane) }
        return h
    }
}
