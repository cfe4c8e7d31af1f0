import Foundation
import XCTest

/// Debian's chromedriver driving headless Chromium over the W3C WebDriver protocol (JSON over
/// HTTP on loopback), as far as the page test needs: open a page, find, click and read elements,
/// take a screenshot. Skips the calling test when Chromium or its driver is not installed.
final class WebDriver {
    private let process = Process()
    private let port: Int
    private var session = ""

    static func executables() throws -> (browser: String, driver: String) {
        let browser = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        let driver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        guard let browser, let driver else {
            throw XCTSkip("Chromium and its driver are not installed (scripts/setup-browser installs chromium-driver)")
        }
        return (browser, driver)
    }

    /// Starts chromedriver on a port of its choosing and a headless browser session, whose
    /// profile goes into `profile`.
    init(profile: URL) async throws {
        let (browser, driver) = try Self.executables()
        process.executableURL = URL(fileURLWithPath: driver)
        process.arguments = ["--port=0"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var printed = Data()
        var port: Int?
        while port == nil {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            printed += chunk
            port = String(decoding: printed, as: UTF8.self).components(separatedBy: "successfully on port ").dropFirst()
                .first
                .flatMap { Int($0.prefix { $0.isNumber }) }
        }
        guard let port else {
            kill(process.processIdentifier, SIGKILL)
            throw XCTSkip("chromedriver did not start: \(String(decoding: printed, as: UTF8.self))")
        }
        self.port = port
        let options: [String: Any] = [
            "binary": browser,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1100,800",
                "--user-data-dir=\(profile.path)"
            ]
        ]
        let capabilities = ["capabilities": ["alwaysMatch": ["browserName": "chrome", "goog:chromeOptions": options]]]
        do {
            let created = try LoopbackHTTP.json(port: port, "POST", "/session", capabilities)
            session = try XCTUnwrap(
                (created as? [String: Any])?["sessionId"] as? String, "\(String(describing: created))")
        } catch {
            quit()
            throw error
        }
    }

    /// Closes the browser and ends chromedriver (which does not stop on SIGTERM).
    func quit() {
        if !session.isEmpty { _ = try? LoopbackHTTP.json(port: port, "DELETE", "/session/\(session)", nil) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func open(_ url: URL) async throws { _ = try await command("POST", "/url", ["url": url.absoluteString]) }

    /// The id of the element `selector` matches (CSS).
    func element(_ selector: String) async throws -> String {
        let found = try await command("POST", "/element", ["using": "css selector", "value": selector])
        let reference = try XCTUnwrap(found as? [String: String], "no element \(selector)")
        return try XCTUnwrap(reference.values.first)
    }

    func click(_ element: String) async throws { _ = try await command("POST", "/element/\(element)/click", [:]) }

    func attribute(_ name: String, of element: String) async throws -> String? {
        try await command("GET", "/element/\(element)/attribute/\(name)", nil) as? String
    }

    func text(of element: String) async throws -> String {
        try await command("GET", "/element/\(element)/text", nil) as? String ?? ""
    }

    /// Types `text` into an element (for a file input: the path of the file to choose).
    func type(_ text: String, into element: String) async throws {
        _ = try await command("POST", "/element/\(element)/value", ["text": text])
    }

    /// Runs `script` (a function body) in the page and returns what it returns.
    func execute(_ script: String) async throws -> Any? {
        try await command("POST", "/execute/sync", ["script": script, "args": [Any]()])
    }

    /// Presses the left button at (x0, y0) from the element's centre, moves to (x1, y1), releases.
    func drag(on element: String, from start: (Int, Int), to end: (Int, Int)) async throws {
        let origin = ["element-6066-11e4-a52e-4f735466cecf": element]
        let steps: [[String: Any]] = [
            ["type": "pointerMove", "origin": origin, "x": start.0, "y": start.1],
            ["type": "pointerDown", "button": 0],
            ["type": "pointerMove", "origin": origin, "x": end.0, "y": end.1, "duration": 200],
            ["type": "pointerUp", "button": 0]
        ]
        let mouse: [String: Any] = [
            "type": "pointer", "id": "mouse", "parameters": ["pointerType": "mouse"], "actions": steps
        ]
        _ = try await command("POST", "/actions", ["actions": [mouse]])
    }

    /// A PNG of the window.
    func screenshot() async throws -> Data {
        let value = try await command("GET", "/screenshot", nil)
        let base64 = try XCTUnwrap(value as? String, "a screenshot")
        return try XCTUnwrap(Data(base64Encoded: base64))
    }

    /// One command, on a Dispatch thread: the socket blocks, and the test's executor runs the server.
    private func command(_ method: String, _ path: String, _ body: Any?) async throws -> Any? {
        let (port, path) = (port, "/session/\(session)" + path)
        nonisolated(unsafe) let body = body
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try LoopbackHTTP.json(port: port, method, path, body) })
            }
        }
    }
}

/// HTTP/1.1 to a loopback port over a plain socket, one request a connection. chromedriver writes
/// headers as "Content-Length:884" (no space), which Foundation's client on Linux refuses.
enum LoopbackHTTP {
    /// One WebDriver command: the JSON `value` of the answer, or an error with the driver's message.
    static func json(port: Int, _ method: String, _ path: String, _ body: Any?) throws -> Any? {
        let payload = try body.map { try JSONSerialization.data(withJSONObject: $0) } ?? Data()
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        request += "Content-Type: application/json\r\nContent-Length: \(payload.count)\r\n\r\n"
        let answer = try exchange(port: port, Data(request.utf8) + payload)
        guard let split = answer.range(of: Data("\r\n\r\n".utf8)) else {
            throw failure("\(method) \(path): no HTTP answer")
        }
        let head = String(decoding: answer[..<split.lowerBound], as: UTF8.self)
        let status = head.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        let data = answer[split.upperBound...]
        let value = (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? [String: Any])?[
            "value"]
        guard status == 200 else {
            let message = (value as? [String: Any])?["message"] as? String ?? String(decoding: data, as: UTF8.self)
            throw failure("\(method) \(path): \(status) \(message)")
        }
        return value is NSNull ? nil : value
    }

    /// Sends `request` and reads the answer to the end of the connection.
    private static func exchange(port: Int, _ request: Data) throws -> Data {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw failure("socket: errno \(errno)") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw failure("connect to port \(port): errno \(errno)") }
        try request.withUnsafeBytes { bytes in
            var sent = 0
            while sent < bytes.count {
                let count = send(socket, bytes.baseAddress! + sent, bytes.count - sent, 0)
                guard count > 0 else { throw failure("send: errno \(errno)") }
                sent += count
            }
        }
        return try readAnswer(socket)
    }

    /// The head and the body of one answer: up to the blank line, then Content-Length bytes
    /// (chromedriver keeps the connection open, so the end of the stream does not mark it).
    private static func readAnswer(_ socket: Int32) throws -> Data {
        var timeout = timeval(tv_sec: 120, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var answer = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var expected: Int?
        while expected.map({ answer.count < $0 }) ?? true {
            let count = recv(socket, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            answer.append(contentsOf: buffer[..<count])
            if expected == nil, let split = answer.range(of: Data("\r\n\r\n".utf8)) {
                let head = String(decoding: answer[..<split.lowerBound], as: UTF8.self).lowercased()
                let length = head.components(separatedBy: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) }
                expected = split.upperBound + (length ?? 0)
            }
        }
        return answer
    }

    private static func failure(_ message: String) -> Error {
        NSError(domain: "WebDriver", code: 1, userInfo: [NSLocalizedDescriptionKey: message])
    }
}
