import Crypto
import Foundation

/// File primitives with the crash-safety rule: a file appears under its final name only when
/// complete and on disk (write to a temporary name, fsync, rename, fsync the directory).
enum FileIO {
    /// An open file being written under a temporary name in the directory of `finalURL`.
    final class PendingFile {
        let finalURL: URL
        let temporaryURL: URL
        private var descriptor: Int32
        private(set) var bytesWritten = 0

        init(finalURL: URL) throws {
            self.finalURL = finalURL
            let directory = finalURL.deletingLastPathComponent()
            temporaryURL = directory.appendingPathComponent(".\(finalURL.lastPathComponent).partial-\(getpid())")
            descriptor = open(temporaryURL.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw FileIO.systemError(temporaryURL.path, "cannot create") }
        }

        deinit { discard() }

        func write(_ bytes: UnsafeRawBufferPointer) throws {
            var done = 0
            while done < bytes.count {
                let written = Foundation.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
                if written < 0 {
                    if errno == EINTR { continue }
                    let error = FileIO.systemError(finalURL.path, "cannot write (after \(bytesWritten + done) bytes)")
                    discard()
                    throw error
                }
                done += written
            }
            bytesWritten += done
        }

        func write(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try write($0) }
        }

        /// fsync, close, rename to the final name, fsync the directory.
        func commit() throws {
            if fsync(descriptor) != 0 {
                let error = FileIO.systemError(finalURL.path, "cannot flush to disk")
                discard()
                throw error
            }
            close(descriptor)
            descriptor = -1
            if rename(temporaryURL.path, finalURL.path) != 0 {
                let error = FileIO.systemError(finalURL.path, "cannot rename into place")
                unlink(temporaryURL.path)
                throw error
            }
            FileIO.syncDirectory(finalURL.deletingLastPathComponent())
        }

        /// Closes and deletes the temporary file; nothing appears under the final name.
        func discard() {
            if descriptor >= 0 {
                close(descriptor)
                descriptor = -1
                unlink(temporaryURL.path)
            }
        }
    }

    /// Writes `bytes` to `url` atomically.
    static func writeAtomically(_ bytes: [UInt8], to url: URL) throws {
        let file = try PendingFile(finalURL: url)
        try file.write(bytes)
        try file.commit()
    }

    static func syncDirectory(_ url: URL) {
        let descriptor = open(url.path, O_RDONLY | O_DIRECTORY)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
    }

    static func systemError(_ path: String, _ action: String) -> RecordsError {
        let code = errno
        var message = "\(action): \(String(cString: strerror(code)))"
        if code == ENOSPC { message += " (the disk is full; free space or choose another --out)" }
        return RecordsError(file: path, reason: .io(message))
    }

    /// SHA-256 of a file as lowercase hex, read through a memory map.
    static func sha256Hex(of url: URL) throws -> String {
        let mapped = try MappedFile(url: url, sequential: true)
        var hasher = SHA256()
        hasher.update(bufferPointer: mapped.bytes)
        return hex(hasher.finalize())
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// A read-only memory map of a whole file; unmapped on deinit. Payload views handed out by
/// readers point into it, so it lives as long as the reader that owns it.
public final class MappedFile: @unchecked Sendable {
    public let url: URL
    /// The file's bytes (empty for an empty file).
    public let bytes: UnsafeRawBufferPointer

    /// Maps `url`. `sequential` tells the kernel to read ahead aggressively (verification,
    /// hashing); leave it off for shuffled access.
    public init(url: URL, sequential: Bool = false) throws {
        self.url = url
        let descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileIO.systemError(url.path, "cannot open") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw FileIO.systemError(url.path, "cannot stat") }
        let size = Int(status.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_SHARED, descriptor, 0)
        guard let address, address != MAP_FAILED else { throw FileIO.systemError(url.path, "cannot map") }
                if sequential { madvise(address, size, MADV_SEQUENTIAL) }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
