import ImageIO

/// A photo whose size is known (from its header) and whose pixels are decoded when a stage
/// needs them: whole, or straight to the training size through the resize stage's
/// `PhotoResizer`, which for a JPEG decodes and resizes in one pass over its rows and never
/// holds the full-size photo (see `PhotoResizer.resize(decoding:)`; the bytes are the same).
public struct PhotoInput: Sendable {
    public let width: Int
    public let height: Int
    private let decodeWhole: @Sendable () throws -> Image
    private let decodeResized: @Sendable (PhotoResizer) throws -> Image
    private let check: @Sendable () throws -> Void

    /// A photo that `decode` decodes whole and `decodeResized` decodes to a resizer's size;
    /// `check` throws what `decode` would, and may skip work `decode` must do (nil: `decode`).
    public init(width: Int, height: Int, decode: @escaping @Sendable () throws -> Image,
                decodeResized: @escaping @Sendable (PhotoResizer) throws -> Image,
                check: (@Sendable () throws -> Void)? = nil) {
        self.width = width
        self.height = height
        self.decodeWhole = decode
        self.decodeResized = decodeResized
        self.check = check ?? { _ = try decode() }
    }

    /// A photo already decoded.
    public init(_ image: Image) {
        self.init(
            width: image.width, height: image.height, decode: { image }, decodeResized: { $0.resize(image) }, check: {})
    }

    /// The encoded file `bytes` at `path`, whose header is read now: throws when it cannot be
    /// (an unknown format, a damaged header); damage further in throws from the decoders.
    public init(encoded bytes: [UInt8], path: String) throws {
        let info = try bytes.withUnsafeBytes { try ImageInfo(probing: $0, source: path) }
        self.init(
            width: info.width, height: info.height,
            decode: { try bytes.withUnsafeBytes { try Image(decoding: $0, source: path) } },
            decodeResized: { resizer in try bytes.withUnsafeBytes { try resizer.resize(decoding: $0, source: path) } },
            check: { try bytes.withUnsafeBytes { try Image.checkDecodes($0, source: path) } })
    }

    /// All the pixels.
    public func decoded() throws -> Image { try decodeWhole() }

    /// Throws what `decoded()` would, for a sample dropped before its photo is needed: a
    /// broken photo is still reported as such (decode and check are the first stages), but a
    /// good one is not decoded whole (a JPEG's pixels come out at 1/8 scale, see
    /// `Image.checkDecodes`).
    public func checkDecodes() throws { try check() }

    /// The pixels resized by `resizer`, which must be made for `width × height`.
    public func decoded(resizedBy resizer: PhotoResizer) throws -> Image { try decodeResized(resizer) }
}
