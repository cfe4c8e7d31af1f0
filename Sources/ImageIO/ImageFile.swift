#if canImport(Glibc)
import Glibc
private let systemRead = Glibc.read
#elseif canImport(Darwin)
import Darwin
private let systemRead = Darwin.read
#endif

/// Whole-file reads and crash-safe writes for image files.
public enum ImageFile {
    /// The bytes of the file at `path`. Throws `.unreadable` with the system's message.
    public static func read(_ path: String) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(path, "cannot open") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw failure(path, "cannot stat") }
        let size = Int(info.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        try bytes.withUnsafeMutableBytes { buffer in
            while done < size {
                let n = systemRead(descriptor, buffer.baseAddress! + done, size - done)
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw failure(path, "cannot read at byte \(done)") }
                if n == 0 { break }  // the file shrank while being read
                done += n
            }
        }
        if done < size { bytes.removeSubrange(done...) }
        return bytes
    }

    /// Writes `bytes` to `path` so that the file is either absent, the old one, or complete:
    /// a temporary file in the same folder is written, flushed with fsync, then renamed over
    /// `path`, and the folder is synced. Throws `.encodeFailed` naming the step that failed;
    /// the temporary file is removed on failure.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temporary = "\(folder)/.\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw writeFailure(path, "cannot create \(temporary)") }
        var closed = false
        do {
            try bytes.withUnsafeBytes { buffer in
                var done = 0
                while done < buffer.count {
                    let n = write(descriptor, buffer.baseAddress! + done, buffer.count - done)
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { throw writeFailure(path, "cannot write at byte \(done)") }
                    done += n
                }
            }
            guard fsync(descriptor) == 0 else { throw writeFailure(path, "cannot fsync") }
            closed = true
            guard close(descriptor) == 0 else { throw writeFailure(path, "cannot close") }
            guard rename(temporary, path) == 0 else { throw writeFailure(path, "cannot rename \(temporary) into place") }
        } catch {
            if !closed { close(descriptor) }
            unlink(temporary)
            throw error
        }
        // Make the rename itself durable; a failure here leaves a complete file, so it is ignored.
        let folderDescriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderDescriptor >= 0 {
            fsync(folderDescriptor)
            close(folderDescriptor)
        }
    }

    private static func failure(_ path: String, _ step: String) -> ImageIOError {
        ImageIOError(source: path, reason: .unreadable("\(step): \(String(cString: strerror(errno)))"))
    }

    private static func writeFailure(_ path: String, _ step: String) -> ImageIOError {
        ImageIOError(source: path, reason: .encodeFailed("\(step): \(String(cString: strerror(errno)))"))
    }
}

extension Image {
    /// Encodes this photo as JPEG and writes it atomically (see `ImageFile.writeAtomically`).
    public func writeJPEG(toFile path: String, quality: Int = 95) throws {
        try ImageFile.writeAtomically(encodedJPEG(quality: quality), to: path)
    }

    /// Encodes this photo as RGB PNG and writes it atomically.
    public func writePNG(toFile path: String, compressionLevel: Int = 6) throws {
        try ImageFile.writeAtomically(encodedPNG(compressionLevel: compressionLevel), to: path)
    }
}

extension LabelMap {
    /// Encodes this label map as PNG (palette when `palette` is given, else grayscale) and
    /// writes it atomically.
    public func writePNG(toFile path: String, palette: [(UInt8, UInt8, UInt8)]? = nil, compressionLevel: Int = 6) throws {
        try ImageFile.writeAtomically(encodedPNG(palette: palette, compressionLevel: compressionLevel), to: path)
    }
}
