import Foundation

extension ShardSet {
    /// Calls `body` with the segmentation record at `global`, read with `pread` into `buffer`
    /// (grown to the record's size when needed; reuse it) instead of through the memory map:
    /// a shard truncated while a long run reads it then gives an error naming the shard and
    /// record, where a read of the map would kill the process with SIGBUS. The view points
    /// into `buffer` and is valid in `body` only. Errors carry shard path, record, offset and,
    /// when the payload gets that far, the key; an error `body` throws that is not a
    /// `RecordsError` is wrapped into one with the record's location.
    public func withCopiedSegmentationRecord<Result>(
        at global: Int, buffer: inout [UInt8], _ body: (SegmentationRecord.View) throws -> Result
    ) throws -> Result {
        guard global >= 0, global < count else {
            throw RecordsError(file: directory.path, reason: .invalidArgument("record \(global) of \(count)"))
        }
        let (shardNumber, recordNumber) = location(ofGlobalIndex: global)
        let shard = shards[shardNumber]
        let range = shard.index.range(ofRecord: recordNumber)
        let path = shard.file.url.path
        if buffer.count < range.count { buffer = [UInt8](repeating: 0, count: range.count) }
        try Self.read(path, range, into: &buffer, record: recordNumber)
        return try buffer.withUnsafeBytes { raw in
            let bytes = UnsafeRawBufferPointer(rebasing: raw[0..<range.count])
            func located(_ error: Error, key: String?) -> RecordsError {
                var error =
                    (error as? RecordsError)
                    ?? RecordsError(file: path, key: key, reason: .invalidValue(String(describing: error)))
                (error.file, error.record, error.offset) = (path, recordNumber, range.lowerBound)
                error.key = error.key ?? key
                return error
            }
            let payload: UnsafeRawBufferPointer
            do {
                payload = try Self.checkedRecord(
                    in: bytes, at: 0, end: range.count, file: path, record: recordNumber, base: range.lowerBound
                ).payload
            } catch {
                throw located(error, key: Self.bestEffortKey(bytes, range: 0..<range.count))
            }
            let view: SegmentationRecord.View
            do { view = try SegmentationRecord.View(payload: payload) } catch { throw located(error, key: nil) }
            do { return try body(view) } catch { throw located(error, key: view.key) }
        }
    }

    /// Reads `range` of the file at `path` into the start of `buffer`; `.truncated` when the
    /// file is now shorter (it changed after the set was opened).
    private static func read(_ path: String, _ range: Range<Int>, into buffer: inout [UInt8], record: Int) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw FileIO.systemError(path, "cannot open") }
        defer { close(descriptor) }
        var done = 0
        try buffer.withUnsafeMutableBytes { raw in
            while done < range.count {
                let n = pread(descriptor, raw.baseAddress! + done, range.count - done, off_t(range.lowerBound + done))
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else {
                    throw RecordsError(
                        file: path, record: record, offset: range.lowerBound,
                        reason: .io("cannot read: \(String(cString: strerror(errno)))"))
                }
                guard n > 0 else {
                    throw RecordsError(
                        file: path, record: record, offset: range.lowerBound,
                        reason: .truncated(needed: range.count, available: done))
                }
                done += n
            }
        }
    }
}
