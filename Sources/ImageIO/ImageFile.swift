import AtomicFiles
#if canImport(Glibc)
import Glibc
private let systemRead = Glibc.read
#elseif canImport(Darwin)
import Darwin
private let systemRead = Darwin.read
#endif

/// Whole-file reads and crash-safe writes for image files.
public enum ImageFile {
    /// The largest file `read` accepts: far above any image within the decoders' pixel limit,
    /// far below what would exhaust memory (the whole file is read at once).
    public static let maximumFileSize = 1 << 30

    /// The bytes of the file at `path`. Throws `.unreadable` with the system's message, and
    /// `.unsupported` for what is not a regular file (a FIFO would block forever) or is over
    /// `maximumFileSize` (a sparse 40 GB file would be allocated whole).
    public static func read(_ path: String) throws -> [UInt8] {
        // Non-blocking, so that opening a FIFO returns at once; it changes nothing for files.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw failure(path, "cannot open") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw failure(path, "cannot stat") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw ImageIOError(source: path, reason: .unsupported("not a regular file (a FIFO, socket or device)"))
        }
        let size = Int(info.st_size)
        guard size <= maximumFileSize else {
            throw ImageIOError(
                source: path,
                reason: .unsupported(
                    "the file is \(size) bytes; image files over \(maximumFileSize >> 20) MiB are not read"))
        }
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

    private static func failure(_ path: String, _ step: String) -> ImageIOError {
        ImageIOError(source: path, reason: .unreadable("\(step): \(String(cString: strerror(errno)))"))
    }
}

extension Image {
    /// Encodes this photo as JPEG and writes it with `AtomicFileWriter`: `path` holds the old
    /// file or the whole new one, never part of it. A failed write throws `AtomicFileError`
    /// (the file, the step and the system's reason); the folder must exist.
    public func writeJPEG(toFile path: String, quality: Int = 95) throws {
        try AtomicFileWriter.write(encodedJPEG(quality: quality), to: path)
    }

    /// Encodes this photo as RGB PNG and writes it atomically, as `writeJPEG` does.
    public func writePNG(toFile path: String, compressionLevel: Int = 6) throws {
        try AtomicFileWriter.write(encodedPNG(compressionLevel: compressionLevel), to: path)
    }
}

extension LabelMap {
    /// Encodes this label map as PNG (palette when `palette` is given, else grayscale) and
    /// writes it atomically.
    public func writePNG(toFile path: String, palette: [(UInt8, UInt8, UInt8)]? = nil, compressionLevel: Int = 6) throws
    {
        try AtomicFileWriter.write(encodedPNG(palette: palette, compressionLevel: compressionLevel), to: path)
    }
}
