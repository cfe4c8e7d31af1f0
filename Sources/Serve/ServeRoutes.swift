import Foundation
import Hummingbird
import ImageIO
import Statistics

/// What `GET /api/info` tells the page: the model's classes (with the statistics report's
/// colours), its image size, the records it can offer, the limits and the routes.
struct ServerInfo: Encodable {
    struct ClassInfo: Encodable {
        let id: Int
        let name: String
        /// "#rrggbb", the class's colour in the statistics report and the training page.
        let colour: String
    }

    let classes: [ClassInfo]
    let width: Int
    let height: Int
    /// The shard split the records come from ("validation", else "train"), or nil without shards.
    let split: String?
    let records: Int
    let maxUploadBytes: Int
    let maxUploadPixels: Int
    let queueCapacity: Int
    let routes: [String]

    static let routeList = [
        "GET / — the page",
        "GET /api/info — this description",
        "GET /api/status — requests waiting and running, open pages",
        "POST /api/sessions — a new page session: {\"session\": id}",
        "POST /api/sessions/{id}/record?request=N&index=K — record K's label map, z kept",
        "PUT /api/sessions/{id}/label?request=N — an edited label map (raw bytes or PNG), z kept",
        "POST /api/sessions/{id}/resample?request=N — {\"class\": name or id}: that class's z drawn afresh",
        "POST /api/sessions/{id}/mix?request=N&classes=a,b[&record=K] — a style photo (body, read with the "
            + "page's label map) or record K's photo and label map gives those classes' z",
        "POST /api/sessions/{id}/morph?request=N — {\"t\": 0…1, \"classes\": [...]}: z between two latents"
    ]
}

/// The page and the JSON API (see `ServerInfo.routeList` and the README). Handlers parse and
/// check; the model runs on the inference queue only.
struct ServeRoutes {
    let store: SessionStore
    let queue: InferenceQueue<Studio>
    let parser: RequestParser
    let info: ServerInfo

    var classNames: [String] { info.classes.map(\.name) }

    func register(on router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in
            Response(
                status: .ok,
                headers: [
                    .contentType: "text/html; charset=utf-8",
                    .contentSecurityPolicy:
                        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                        + "img-src data: blob:; connect-src 'self'"
                ],
                body: .init(byteBuffer: ByteBuffer(string: ServePage.html)))
        }
        router.get("/api/info") { _, _ in try Self.json(info) }
        router.get("/api/status") { _, _ in
            let load = queue.load
            return try Self.json([
                "waiting": load.waiting, "running": load.running ? 1 : 0, "capacity": queue.capacity,
                "sessions": store.count
            ])
        }
        router.post("/api/sessions") { _, _ in try Self.json(["session": store.create().id], status: .created) }
        registerActions(on: router)
    }

    private func registerActions(on router: Router<BasicRequestContext>) {
        router.post("/api/sessions/:id/record") { request, context in
            let (session, number) = try page(request, context)
            let index = try parser.integer("index", in: request)
            return try await run(session, number) { try $0.chooseRecord(index, &$1, request: number) }
        }
        router.put("/api/sessions/:id/label") { request, context in
            let (session, number) = try page(request, context)
            let bytes = try await parser.body(request, what: "label map")
            let decoded = try parser.labelMap(
                bytes, contentType: request.headers[.contentType], width: info.width, height: info.height)
            return try await run(session, number) { studio, state in
                let label = try studio.checked(decoded, source: "uploaded label map")
                return try studio.setLabel(label, &state, request: number)
            }
        }
        router.post("/api/sessions/:id/resample") { request, context in
            let (session, number) = try page(request, context)
            let body = try await parser.json(ResampleBody.self, from: request, example: #"{"class": "top-clothes"}"#)
            let classIndex = try body.class.index(in: classNames)
            return try await run(session, number) { try $0.resample(classIndex, &$1, request: number) }
        }
        router.post("/api/sessions/:id/mix") { request, context in
            let (session, number) = try page(request, context)
            let classes = try (request.uri.queryParameters["classes"].map { String($0) } ?? "")
                .split(separator: ",").map { try ClassReference(text: String($0)).index(in: classNames) }
            let style: Studio.Style
            if request.uri.queryParameters["record"] != nil {
                style = .record(try parser.integer("record", in: request))
            } else {
                let bytes = try await parser.body(request, what: "style photo")
                style = .photo(try parser.photo(bytes, what: "the style photo"))
            }
            return try await run(session, number) { try $0.mix(style, classes: classes, &$1, request: number) }
        }
        router.post("/api/sessions/:id/morph") { request, context in
            let (session, number) = try page(request, context)
            let body = try await parser.json(MorphBody.self, from: request, example: #"{"t": 0.5}"#)
            guard body.t.isFinite, (0...1).contains(body.t) else {
                throw ServeError(.badRequest, "t is \(body.t); a morph goes from t = 0 to t = 1.")
            }
            let classes = try (body.classes ?? []).map { try $0.index(in: classNames) }
            return try await run(session, number) { try $0.morph(to: body.t, classes: classes, &$1, request: number) }
        }
    }

    /// The page session named in the path and the request's number.
    private func page(_ request: Request, _ context: BasicRequestContext) throws -> (PageSession, Int) {
        let session = try store.session(context.parameters.require("id"))
        return (session, try parser.requestNumber(request))
    }

    private func run(
        _ session: PageSession, _ number: Int, _ work: @escaping InferenceQueue<Studio>.Work
    )
        async throws -> Response
    {
        try Self.json(await queue.submit(session: session, request: number, work: work))
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}

/// Refuses requests that a web page of another site could send to this machine's loopback
/// server: a Host header that is not this machine (DNS rebinding) and an Origin that is not the
/// page's own (cross-site requests). A server bound beyond loopback checks the Origin only.
struct SameOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    let loopbackOnly: Bool

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        let host = request.head.authority ?? ""
        if loopbackOnly, !LoopbackHost.matches(host) {
            throw ServeError(
                .forbidden, "This server answers requests for 127.0.0.1 or localhost only, not \"\(host.prefix(80))\".")
        }
        if let origin = request.headers[.origin], origin != "http://\(host)" {
            throw ServeError(.forbidden, "Requests from another site (\(origin.prefix(80))) are refused.")
        }
        return try await next(request, context)
    }
}

/// The names of this machine a Host header may carry to a loopback-only server.
enum LoopbackHost {
    /// True for 127.0.0.1, localhost and [::1], with or without a port.
    static func matches(_ host: String) -> Bool {
        let name =
            host.hasPrefix("[") ? String(host.prefix { $0 != "]" }.dropFirst()) : String(host.prefix { $0 != ":" })
        return ["127.0.0.1", "localhost", "::1"].contains(name)
    }
}
