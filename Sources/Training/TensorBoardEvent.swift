/// One record of a TensorBoard event file: TensorFlow's `Event` protobuf, limited to the fields
/// a training run writes, encoded by hand (proto3 wire format; field numbers from
/// tensorflow/core/util/event.proto and tensorflow/core/framework/summary.proto).
///
/// | message         | field                                  | tag byte   |
/// |-----------------|----------------------------------------|------------|
/// | Event           | 1 `wall_time`: double (fixed64)        | 0x09       |
/// |                 | 2 `step`: int64 (varint)               | 0x10       |
/// |                 | 3 `file_version`: string               | 0x1A       |
/// |                 | 5 `summary`: Summary                   | 0x2A       |
/// |                 | 7 `session_log`: SessionLog            | 0x3A       |
/// | Summary         | 1 `value`: repeated Summary.Value      | 0x0A each  |
/// | Summary.Value   | 1 `tag`: string                        | 0x0A       |
/// |                 | 2 `simple_value`: float (fixed32)      | 0x15       |
/// |                 | 4 `image`: Summary.Image               | 0x22       |
/// | Summary.Image   | 1 `height`, 2 `width`, 3 `colorspace`: int32 (varint) | 0x08, 0x10, 0x18 |
/// |                 | 4 `encoded_image_string`: bytes (PNG)  | 0x22       |
/// | SessionLog      | 1 `status`: enum, START = 1 (varint)   | 0x08       |
///
/// As proto3 does, a step of 0 is left out (it reads back as 0). Files frame each event as a
/// TFRecord (see ``EventFileWriter``); the first event of a file carries `file_version`
/// "brain.Event:2".
public struct TensorBoardEvent: Equatable, Sendable {
    /// What the event carries besides its time and step.
    public enum Content: Equatable, Sendable {
        /// The file's first event: "brain.Event:2".
        case fileVersion(String)
        /// Scalars and images of one step.
        case summary([SummaryValue])
        /// `SessionLog` START: a (re)started run. TensorBoard drops the events of earlier files
        /// whose step is at least this event's, so a resumed run's repeated steps replace the
        /// interrupted run's.
        case sessionStart
    }

    /// Seconds since 1970 when the event was written.
    public var wallTime: Double
    public var step: Int64
    public var content: Content

    public init(wallTime: Double, step: Int64, content: Content) {
        self.wallTime = wallTime
        self.step = step
        self.content = content
    }

    /// The first event of every event file.
    public static let fileVersion = "brain.Event:2"

    /// The serialized `Event` protobuf.
    public func encoded() -> [UInt8] {
        var event = ProtobufMessage()
        event.fixed64(field: 1, wallTime.bitPattern)
        if step != 0 { event.varint(field: 2, UInt64(bitPattern: step)) }
        switch content {
        case .fileVersion(let version):
            event.bytes(field: 3, Array(version.utf8))
        case .summary(let values):
            var summary = ProtobufMessage()
            for value in values { summary.bytes(field: 1, value.encoded()) }
            event.bytes(field: 5, summary.bytes)
        case .sessionStart:
            var sessionLog = ProtobufMessage()
            sessionLog.varint(field: 1, 1)
            event.bytes(field: 7, sessionLog.bytes)
        }
        return event.bytes
    }
}

/// One tagged value of a `Summary`: a scalar, or an image as PNG bytes.
public struct SummaryValue: Equatable, Sendable {
    public enum Payload: Equatable, Sendable {
        case scalar(Float)
        /// An RGB PNG of `width` × `height` pixels (TensorBoard shows the bytes; the size is
        /// what its lists report).
        case image(width: Int, height: Int, png: [UInt8])
    }

    public var tag: String
    public var payload: Payload

    public init(tag: String, payload: Payload) {
        self.tag = tag
        self.payload = payload
    }

    public static func scalar(_ tag: String, _ value: Float) -> SummaryValue {
        SummaryValue(tag: tag, payload: .scalar(value))
    }

    /// The serialized `Summary.Value` protobuf.
    func encoded() -> [UInt8] {
        var value = ProtobufMessage()
        value.bytes(field: 1, Array(tag.utf8))
        switch payload {
        case .scalar(let number):
            value.fixed32(field: 2, number.bitPattern)
        case let .image(width, height, png):
            var image = ProtobufMessage()
            image.varint(field: 1, UInt64(height))
            image.varint(field: 2, UInt64(width))
            image.varint(field: 3, 3)   // colorspace 3: RGB
            image.bytes(field: 4, png)
            value.bytes(field: 4, image.bytes)
        }
        return value.bytes
    }
}

/// A protobuf message written field by field; nested messages are encoded first and added as
/// bytes (their length is then known).
struct ProtobufMessage {
    private(set) var bytes: [UInt8] = []

    mutating func varint(field: Int, _ value: UInt64) {
        key(field: field, wireType: 0)
        appendVarint(value)
    }

    mutating func fixed64(field: Int, _ value: UInt64) {
        key(field: field, wireType: 1)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func bytes(field: Int, _ value: [UInt8]) {
        key(field: field, wireType: 2)
        appendVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func fixed32(field: Int, _ value: UInt32) {
        key(field: field, wireType: 5)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private mutating func key(field: Int, wireType: UInt64) {
        appendVarint(UInt64(field) << 3 | wireType)
    }

    private mutating func appendVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }
}
