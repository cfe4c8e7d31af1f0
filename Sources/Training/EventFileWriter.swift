import AtomicFiles
import Foundation
import Records

/// Appends ``TensorBoardEvent``s, each framed as a TFRecord (masked CRC32C of length and
/// payload, as TensorFlow writes them), to a new file named as TensorFlow and PyTorch name
/// theirs: `events.out.tfevents.<seconds, 10 digits>.<host>.<pid>.<n>`.
///
/// Like `metrics.jsonl`, an event file is a log that grows record by record, so it is not
/// written through a temporary file: each ``append(_:)`` hands its records to the system in
/// one `write`, so TensorBoard sees them at once, and ``sync()`` makes them durable (the
/// trainer calls it with every checkpoint). A crash can leave a torn last record, which
/// TensorBoard's reader skips.
///
/// TensorBoard reads a folder's event files in name order. The time in a new file's name is
/// therefore at least one second past that of every event file already in the folder, so that
/// a resumed run's file is read after the interrupted one's even within the same second.
final class EventFileWriter {
    static let namePrefix = "events.out.tfevents."
    /// The file written.
    let url: URL
    private let descriptor: Int32

    /// Creates the file in `directory` and writes the `file_version` event.
    init(directory: URL, now: Date = Date()) throws {
        let existing = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasPrefix(Self.namePrefix) }
        let newest = existing.compactMap { Int64($0.dropFirst(Self.namePrefix.count).prefix { $0 != "." }) }.max()
        let seconds = max(Int64(now.timeIntervalSince1970), (newest ?? -1) + 1)
        let host = ProcessInfo.processInfo.hostName.map { $0 == "/" ? "_" : $0 }
        var number = existing.count
        while true {
            let name = Self.namePrefix + String(format: "%010lld", seconds) + ".\(String(host)).\(getpid()).\(number)"
            let candidate = directory.appendingPathComponent(name)
            let opened = open(candidate.path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
            if opened >= 0 {
                url = candidate
                descriptor = opened
                break
            }
            guard errno == EEXIST else {
                throw TrainingError.checkpoint(file: candidate.path, reason: "cannot create: \(Self.systemError())")
            }
            number += 1
        }
        try append([TensorBoardEvent(wallTime: now.timeIntervalSince1970, step: 0,
                                     content: .fileVersion(TensorBoardEvent.fileVersion))])
    }

    deinit { close(descriptor) }

    /// Writes `events` in order, with one `write` call.
    func append(_ events: [TensorBoardEvent]) throws {
        var bytes: [UInt8] = []
        for event in events { bytes += TFRecord.framed(event.encoded()) }
        if let code = FaultPoint.write.reached() {  // a test's full disk (inert otherwise)
            throw TrainingError.checkpoint(file: url.path, reason: "cannot append: \(String(cString: strerror(code)))")
        }
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else {
                    throw TrainingError.checkpoint(file: url.path, reason: "cannot append: \(Self.systemError())")
                }
                offset += written
            }
        }
    }

    /// Flushes the file to the disk (fdatasync).
    func sync() throws {
        guard fdatasync(descriptor) == 0 else {
            throw TrainingError.checkpoint(file: url.path, reason: "cannot flush to the disk: \(Self.systemError())")
        }
    }

    /// The system's message for `errno`.
    private static func systemError() -> String { String(cString: strerror(errno)) }
}
