import Foundation
import Hummingbird
import ImageIO
import NIOCore

/// A class as the page names it: its id, or its name in the checkpoint.
struct ClassReference: Decodable {
    let text: String

    init(text: String) { self.text = text }

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            text = String(number)
        } else {
            text = try container.decode(String.self)
        }
    }

    /// The class id in `classes` (names of the checkpoint, id = position), or 400 with a sentence.
    func index(in classes: [String]) throws -> Int {
        if let index = classes.firstIndex(of: text) { return index }
        if let index = Int(text), classes.indices.contains(index) { return index }
        throw ServeError(
            .badRequest,
            "\"\(text.prefix(60))\" is not a class of this model; its classes are \(classes.joined(separator: ", ")) "
                + "(ids 0…\(classes.count - 1)).")
    }
}

/// Body of `POST …/resample`.
struct ResampleBody: Decodable {
    let `class`: ClassReference
}

/// Body of `POST …/morph`.
struct MorphBody: Decodable {
    /// How far from the morph's start (0) to its end (1).
    let t: Float
    /// The classes that morph (all when absent or empty).
    let classes: [ClassReference]?
}

/// The checks every request goes through before it can reach the queue: bounded bodies, the
/// request number, JSON and uploaded images through the checked decoders.
struct RequestParser {
    let maxUploadBytes: Int
    let maxUploadPixels: Int

    /// The page's request number (`?request=N`, N ≥ 1).
    func requestNumber(_ request: Request) throws -> Int {
        guard let text = request.uri.queryParameters["request"] else {
            throw ServeError(.badRequest, "Give the page's request number as ?request=N (N ≥ 1, above its last).")
        }
        guard let number = Int(text), number >= 1 else {
            throw ServeError(
                .badRequest, "The request number \"\(text.prefix(40))\" is not a whole number of at least 1.")
        }
        return number
    }

    /// An integer query parameter, or 400 naming it.
    func integer(_ name: String, in request: Request) throws -> Int {
        guard let text = request.uri.queryParameters[Substring(name)] else {
            throw ServeError(.badRequest, "Give ?\(name)=N.")
        }
        guard let number = Int(text) else {
            throw ServeError(.badRequest, "\(name) \"\(text.prefix(40))\" is not a whole number.")
        }
        return number
    }

    /// The body, refused with 413 beyond `maxUploadBytes` (by its declared length first, so a
    /// large upload is not read at all) and with 400 when empty.
    func body(_ request: Request, what: String) async throws -> [UInt8] {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > maxUploadBytes {
            throw tooLarge(declared, what: what)
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxUploadBytes)
        } catch is NIOTooManyBytesError {
            throw tooLarge(nil, what: what)
        }
        guard buffer.readableBytes > 0 else { throw ServeError(.badRequest, "The request has no \(what) in its body.") }
        return Array(buffer.readableBytesView)
    }

    /// `body` decoded as JSON of type `T`, or 400 saying what was wrong.
    func json<T: Decodable>(_ type: T.Type, from request: Request, example: String) async throws -> T {
        let bytes = try await body(request, what: "JSON")
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw ServeError(
                .badRequest, "The body is not the JSON this route takes, \(example): \(Self.summary(error)).")
        } catch {
            throw ServeError(.badRequest, "The body is not JSON, \(example).")
        }
    }

    /// A photo (PNG, JPEG or TIFF) through ImageIO's checked decoder, within the pixel limit.
    func photo(_ bytes: [UInt8], what: String) throws -> Image {
        do {
            return try bytes.withUnsafeBytes { try Image(decoding: $0, source: what, limits: limits) }
        } catch let error as ImageIOError {
            throw ServeError.undecodable(error)
        }
    }

    /// A label map: raw class ids (`application/octet-stream`, exactly width × height bytes) or
    /// an image of class ids through ImageIO's checked decoder.
    func labelMap(_ bytes: [UInt8], contentType: String?, width: Int, height: Int) throws -> LabelMap {
        if contentType?.hasPrefix("application/octet-stream") == true {
            guard bytes.count == width * height else {
                throw ServeError(
                    .badRequest,
                    "A raw label map has one class id a byte, \(width)×\(height) = \(width * height) bytes; "
                        + "this one has \(bytes.count).")
            }
            return LabelMap(width: width, height: height, values: bytes)
        }
        do {
            return try bytes.withUnsafeBytes {
                try LabelMap(decoding: $0, source: "the uploaded label map", limits: limits)
            }
        } catch let error as ImageIOError {
            throw ServeError.undecodable(error)
        }
    }

    private var limits: DecodeLimits { DecodeLimits(maxPixels: maxUploadPixels, treatWarningsAsErrors: true) }

    private func tooLarge(_ declared: Int?, what: String) -> ServeError {
        ServeError(
            .contentTooLarge,
            "The \(what) is \(declared.map { "\($0) bytes" } ?? "larger than that"); the server accepts at most "
                + "\(maxUploadBytes) bytes (smis serve --max-upload-bytes).")
    }

    private static func summary(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): return "\"\(key.stringValue)\" is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(context.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type"
        case .dataCorrupted(let context): return context.debugDescription
        @unknown default: return "\(error)"
        }
    }
}
