import ImageIO

/// How the runner turns files into pixels and pixels into bytes. ImageIO's codecs by default;
/// tests substitute a trivial format to exercise the runner on its own.
public struct SampleCodecs: Sendable {
    /// Reads a photo's header; its pixels are decoded when the stages ask (see `PhotoInput`; a
    /// format without a header reader returns `PhotoInput(decodedImage)`).
    public var openPhoto: @Sendable (_ path: String) throws -> PhotoInput
    /// Decodes a label map and counts its values (see `LabelInput`; `LabelInput(map)` counts
    /// them after decoding).
    public var readLabel: @Sendable (_ path: String) throws -> LabelInput
    public var encodePhoto: @Sendable (_ photo: Image, _ quality: Int) throws -> [UInt8]
    public var encodeLabel: @Sendable (_ label: LabelMap, _ compressionLevel: Int) throws -> [UInt8]
    /// Lossless encoding of per-class crops (`--write-split`).
    public var encodeCrop: @Sendable (_ crop: Image) throws -> [UInt8]
    /// Instance maps (data sets that have them): decoding and lossless 16-bit encoding.
    public var readInstances: @Sendable (_ path: String) throws -> InstanceMap
    public var encodeInstances: @Sendable (_ instances: InstanceMap) throws -> [UInt8]

    public init(
        openPhoto: @escaping @Sendable (String) throws -> PhotoInput,
        readLabel: @escaping @Sendable (String) throws -> LabelInput,
        encodePhoto: @escaping @Sendable (Image, Int) throws -> [UInt8],
        encodeLabel: @escaping @Sendable (LabelMap, Int) throws -> [UInt8],
        encodeCrop: @escaping @Sendable (Image) throws -> [UInt8],
        readInstances: @escaping @Sendable (String) throws -> InstanceMap = { try InstanceMap(contentsOfFile: $0) },
        encodeInstances: @escaping @Sendable (InstanceMap) throws -> [UInt8] = {
            try $0.encodedPNG(compressionLevel: 6)
        }
    ) {
        self.openPhoto = openPhoto
        self.readLabel = readLabel
        self.encodePhoto = encodePhoto
        self.encodeLabel = encodeLabel
        self.encodeCrop = encodeCrop
        self.readInstances = readInstances
        self.encodeInstances = encodeInstances
    }

    /// JPEG photos, grayscale PNG labels, PNG crops, through ImageIO. A photo's file is read
    /// and its header checked when it is opened, and a JPEG is decoded straight into the resize
    /// stage; a PNG label map's values are counted as it is decoded. Label maps are written
    /// unfiltered: their runs of equal ids deflate about as well without PNG's per-row filter
    /// search, which costs more than the compression itself.
    public static let imageIO = SampleCodecs(
        openPhoto: { try PhotoInput(encoded: ImageFile.read($0), path: $0) },
        readLabel: { try LabelInput(encoded: ImageFile.read($0), path: $0) },
        encodePhoto: { try $0.encodedJPEG(quality: $1) },
        encodeLabel: { try $0.encodedPNG(compressionLevel: $1, rowFilter: .none) },
        encodeCrop: { try $0.encodedPNG(compressionLevel: 1) })
}
