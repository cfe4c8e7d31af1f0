import Foundation
import Records

/// Shards as the readers meet them: a record's tf.train.Example payload, a shard with its
/// index, and `manifest.json`.
enum RecordTargets {
    static let example = FuzzTarget(
        name: "example", summary: "tf.train.Example payload: parse, copy out, re-encode, segmentation record view"
    ) { bytes in
        guard let view = try? ExampleView(parsing: bytes) else { return }
        _ = view.keys
        if let example = try? view.materialized() {
            let once = example.encoded()
            let twice = try? Example(decoding: once).encoded()
            expect(twice == once, "an encoded Example parses back to the same bytes")
        }
        guard let record = try? SegmentationRecord.View(payload: bytes) else { return }
        // The check bounds the size by the decoders' limit; decoding that much per input would
        // starve the fuzzer, so only small records are decoded (the same code at any size).
        guard record.width * record.height <= 1 << 16 else { return }
        _ = try? record.decoded()
    }

    /// The input is a shard and its index: two bytes give the index's length, the index
    /// follows, the shard is the rest. Both checksums would stop almost every mutation at the
    /// first check, so unless the input's first bit says otherwise the target writes the right
    /// CRCs into the index and into each record it can frame before reading.
    static let tfrecord = FuzzTarget(
        name: "tfrecord",
        summary: "shard and index: index parse, indexed reads (as ShardSet), sequential scan (as verify)"
    ) { bytes in
        guard bytes.count >= 2 else { return }
        let keepChecksums = bytes[0] & 1 == 1
        let indexLength = min(Int(bytes[0] >> 1) | Int(bytes[1]) << 7, bytes.count - 2)
        var index = Array(bytes[2..<(2 + indexLength)])
        var shard = Array(bytes[(2 + indexLength)...])
        if !keepChecksums {
            ChecksumRepair.index(&index)
            ChecksumRepair.records(&shard)
        }
        shard.withUnsafeBytes { shard in
            if let parsed = index.withUnsafeBytes({ try? ShardIndex(decoding: $0, file: "fuzz.index") }),
                parsed.shardSize == UInt64(shard.count)
            {
                for number in 0..<parsed.count {
                    let range = parsed.range(ofRecord: number)
                    guard
                        let located = try? ShardSet.checkedRecord(
                            in: shard, at: range.lowerBound, end: range.upperBound, file: "fuzz", record: number)
                    else { continue }
                    _ = try? SegmentationRecord.View(payload: located.payload)
                }
            }
            var offset = 0, number = 0
            while offset < shard.count,
                let located = try? TFRecord.read(shard, at: offset, file: "fuzz", record: number)
            {
                expect(located.end > offset, "the scan moves forward")
                _ = try? ExampleView(parsing: located.payload)
                (offset, number) = (located.end, number + 1)
            }
        }
    }

    static let manifest = FuzzTarget(
        name: "manifest", summary: "manifest.json: parse and check, digest, counts, shard paths, re-encode"
    ) { bytes in
        let data = Data(bytes)
        guard let manifest = try? Manifest(decoding: data, file: "fuzz/manifest.json") else { return }
        _ = manifest.contentDigest
        _ = manifest.recordCount()
        for shard in manifest.shards {
            let files = try? shard.files(in: URL(fileURLWithPath: "/nonexistent-fuzz-folder"))
            expect(
                files?.shard.deletingLastPathComponent().path == "/nonexistent-fuzz-folder",
                "a shard stays in its folder")
        }
        guard let encoded = try? manifest.encoded() else { return }
        let again = try? Manifest(decoding: Data(encoded), file: "fuzz/manifest.json")
        expect(again == manifest, "an encoded manifest parses back to the same value")
    }
}

/// Writes correct checksums into fuzzer inputs, so that mutations reach what lies behind them.
enum ChecksumRepair {
    /// The masked CRC32C of everything before the last four bytes, stored in them.
    static func index(_ bytes: inout [UInt8]) {
        guard bytes.count >= 4 else { return }
        let crc = bytes.withUnsafeBytes {
            CRC32C.maskedChecksum(UnsafeRawBufferPointer(rebasing: $0[..<(bytes.count - 4)]))
        }
        withUnsafeBytes(of: crc.littleEndian) { bytes.replaceSubrange((bytes.count - 4)..., with: $0) }
    }

    /// Both CRCs of every record whose length field frames it inside the bytes, in order.
    static func records(_ bytes: inout [UInt8]) {
        var offset = 0
        while bytes.count - offset >= TFRecord.overhead {
            let length = bytes.withUnsafeBytes {
                UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            }
            guard length <= UInt64(bytes.count - offset - TFRecord.overhead) else { return }
            let payloadStart = offset + TFRecord.headerSize, end = payloadStart + Int(length)
            let lengthCRC = bytes.withUnsafeBytes {
                CRC32C.maskedChecksum(UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + 8)]))
            }
            let payloadCRC = bytes.withUnsafeBytes {
                CRC32C.maskedChecksum(UnsafeRawBufferPointer(rebasing: $0[payloadStart..<end]))
            }
            withUnsafeBytes(of: lengthCRC.littleEndian) {
                bytes.replaceSubrange((offset + 8)..<(offset + 12), with: $0)
            }
            withUnsafeBytes(of: payloadCRC.littleEndian) { bytes.replaceSubrange(end..<(end + 4), with: $0) }
            offset = end + TFRecord.footerSize
        }
    }
}
