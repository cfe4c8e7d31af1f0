import Crypto
import Foundation

/// Records' file helpers: errors from system calls, and hashing. Files are written with
/// `AtomicFileWriter` directly (a file appears under its final name only when complete and on
/// disk); its `AtomicFileError` names the file, the failed step and the system's reason.
enum FileIO {
    static func systemError(_ path: String, _ action: String) -> RecordsError {
        RecordsError(file: path, reason: .io("\(action): \(String(cString: strerror(errno)))"))
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
    /// Throws for what is not a regular file: a FIFO would block the open forever (hence
    /// O_NONBLOCK, which changes nothing for files), a device would map endless bytes.
    public init(url: URL, sequential: Bool = false) throws {
        self.url = url
        let descriptor = open(url.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw FileIO.systemError(url.path, "cannot open") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw FileIO.systemError(url.path, "cannot stat") }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw RecordsError(file: url.path, reason: .io("not a regular file (a FIFO, socket, device or folder)"))
        }
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
