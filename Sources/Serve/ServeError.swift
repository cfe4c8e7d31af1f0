import Applications
import Foundation
import Hummingbird
import ImageIO

/// A refused request: an HTTP status and one sentence saying why, sent as `{"error": sentence}`.
/// Every bad request becomes one of these; nothing a client sends ends the server.
struct ServeError: Error, HTTPResponseError, CustomStringConvertible {
    var status: HTTPResponse.Status
    var sentence: String

    init(_ status: HTTPResponse.Status, _ sentence: String) {
        self.status = status
        self.sentence = sentence
    }

    var description: String { "\(status.code): \(sentence)" }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Self.jsonResponse(status: status, sentence: sentence)
    }

    static func jsonResponse(status: HTTPResponse.Status, sentence: String) -> Response {
        let body = (try? JSONEncoder().encode(["error": sentence])) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// 409: a newer request from the same page replaced this one (the page ignores the answer).
    static func superseded(_ request: Int) -> ServeError {
        ServeError(.conflict, "Request \(request) was superseded by a newer request from the same page.")
    }

    /// An upload the checked decoders refused: too many pixels is 413, anything else 400.
    static func undecodable(_ error: ImageIOError) -> ServeError {
        if case .tooLarge = error.reason { return ServeError(.contentTooLarge, "\(error).") }
        return ServeError(.badRequest, "\(error).")
    }
}

/// Turns whatever a route throws into a JSON error with a sentence: the server's own refusals
/// as they are, Hummingbird's (no such route, body too large) with a sentence added, and any
/// other error as a 500 that names it, so that no failure reaches the client as an empty body.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as ServeError {
            return ServeError.jsonResponse(status: error.status, sentence: error.sentence)
        } catch let error as ApplicationError {
            return ServeError.jsonResponse(status: .badRequest, sentence: "\(error).")
        } catch let error as HTTPError {
            return ServeError.jsonResponse(status: error.status, sentence: Self.sentence(for: error, request))
        } catch {
            return ServeError.jsonResponse(status: .internalServerError, sentence: "The server failed: \(error).")
        }
    }

    private static func sentence(for error: HTTPError, _ request: Request) -> String {
        if let body = error.body, !body.isEmpty { return body.hasSuffix(".") ? body : body + "." }
        switch error.status {
        case .notFound: return "There is no route \(request.method) \(request.uri.path); GET /api/info lists them."
        case .contentTooLarge: return "The request body is larger than the server accepts."
        default: return "The request was refused (\(error.status.code) \(error.status.reasonPhrase))."
        }
    }
}
