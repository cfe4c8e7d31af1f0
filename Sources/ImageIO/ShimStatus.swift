import CCodecs

/// Turns the C shims' status into `ImageIOError` and their buffers into Swift arrays.
enum ShimStatus {
    /// The library message of a status, as a Swift string.
    static func message(_ status: inout ccodecs_status) -> String {
        withUnsafeBytes(of: &status.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    /// The first warning of a status, or nil when there was none.
    static func firstWarning(_ status: inout ccodecs_status) -> String? {
        guard status.warning_count > 0 else { return nil }
        return withUnsafeBytes(of: &status.first_warning) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    /// Throws the error a failed status stands for; returns when it succeeded.
    static func check(_ status: inout ccodecs_status, source: String, encoding: Bool = false) throws {
        let code = ccodecs_code(rawValue: UInt32(bitPattern: status.code))
        if code == CCODECS_OK { return }
        let text = message(&status)
        if encoding { throw ImageIOError(source: source, reason: .encodeFailed(text)) }
        switch code {
        case CCODECS_UNSUPPORTED: throw ImageIOError(source: source, reason: .unsupported(text))
        case CCODECS_NO_MEMORY: throw ImageIOError(source: source, reason: .corrupt("out of memory: \(text)"))
        case CCODECS_BAD_ARGUMENT: throw ImageIOError(source: source, reason: .unsupported(text))
        default: throw ImageIOError(source: source, reason: .corrupt(text))
        }
    }

    /// Calls one shim function with a fresh status (`body` passes it on as the last argument),
    /// then throws the error a failure stands for, or returns the warnings of a success. Every
    /// decode and probe goes through here, so each codec's Swift side is just its arguments.
    @discardableResult
    static func call(
        source: String, encoding: Bool = false,
        _ body: (inout ccodecs_status) -> Int32
    ) throws -> DecodeWarnings {
        var status = ccodecs_status()
        _ = body(&status)
        try check(&status, source: source, encoding: encoding)
        return DecodeWarnings.from(&status)
    }

    /// Calls one encoder shim with a fresh output buffer and status (`body` passes both on);
    /// returns the encoded bytes, or throws `.encodeFailed` with the library's words. The C
    /// buffer is freed either way.
    static func encode(source: String, _ body: (inout ccodecs_buffer, inout ccodecs_status) -> Int32) throws -> [UInt8]
    {
        var buffer = ccodecs_buffer()
        defer { ccodecs_buffer_free(&buffer) }
        try call(source: source, encoding: true) { body(&buffer, &$0) }
        guard let data = buffer.data, buffer.size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: buffer.size))
    }
}

/// Recoverable problems a codec reported while still producing every pixel (libjpeg's "Corrupt
/// JPEG data: 3 extraneous bytes before marker 0xd9", libpng's dropped ancillary chunks).
public struct DecodeWarnings: Sendable, Equatable {
    /// How many warnings the library raised; 0 for a clean file.
    public var count: Int
    /// The text of the first warning, nil when `count` is 0.
    public var first: String?

    public init(count: Int = 0, first: String? = nil) {
        self.count = count
        self.first = first
    }

    static func from(_ status: inout ccodecs_status) -> DecodeWarnings {
        DecodeWarnings(count: Int(status.warning_count), first: ShimStatus.firstWarning(&status))
    }
}

extension UnsafeRawBufferPointer {
    /// The first byte, typed as the shims take their input (nil for an empty buffer).
    var bytePointer: UnsafePointer<UInt8>? { baseAddress?.assumingMemoryBound(to: UInt8.self) }
}

extension UnsafeMutableRawBufferPointer {
    /// The first byte, typed as the shims take their output (nil for an empty buffer).
    var bytePointer: UnsafeMutablePointer<UInt8>? { baseAddress?.assumingMemoryBound(to: UInt8.self) }
}
