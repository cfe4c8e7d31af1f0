import Foundation
import XCTest

/// Runs a command of a built tool under a deterministic fault (`SMIS_FAULT`, see
/// `AtomicFiles.FaultPoint`), then again without it, and checks what the issue of exact
/// recovery asks: the failed run names the file it could not write, leaves no half-written
/// file under a final name (every final file it left is byte-identical to the undisturbed
/// run's), and the rerun ends with exactly the undisturbed run's bytes.
///
/// Every run writes into the same `output` folder (removed before each undisturbed run), so
/// that files recording their own path agree.
public struct FaultDrill {
    public var tool: String
    public var arguments: [String]
    public var output: URL
    /// Relative paths left out of every comparison: state a run keeps for itself (journals,
    /// locks) whose bytes depend on thread timing, never results.
    public var excluding: (String) -> Bool
    /// Lines that carry times, removed from text files before comparing.
    public var timeLines: NSRegularExpression?
    /// Relative paths of files a run replaces atomically as it goes (a resume journal): a
    /// failed run may leave an earlier, complete version; the rerun must end with the same bytes.
    public var progress: (String) -> Bool = { _ in false }
    /// Runs after the output folder is removed, before each run from scratch (earlier steps
    /// of a job: the workers' slices before a merge).
    public var setUp: () throws -> Void = {}

    public init(
        tool: String, arguments: [String], output: URL, excluding: @escaping (String) -> Bool = { _ in false },
        timeLines: NSRegularExpression? = nil
    ) {
        self.tool = tool
        self.arguments = arguments
        self.output = output
        self.excluding = excluding
        self.timeLines = timeLines
    }

    /// The output folder's contents, temporaries (`.NAME.partial-…`) included.
    public func contents() -> FolderContents {
        FolderContents(output, excluding: excluding, timeLines: timeLines)
    }

    /// Runs without any fault; fails the test unless it succeeds.
    @discardableResult
    public func run(file: StaticString = #filePath, line: UInt = #line) throws -> BuiltTool.Result {
        let result = try BuiltTool.run(tool, arguments, environment: ["SMIS_FAULT": ""])
        XCTAssertEqual(result.status, 0, "\(arguments): \(result.errors)", file: file, line: line)
        return result
    }

    /// The undisturbed run's contents, from an empty output folder.
    public func reference() throws -> FolderContents {
        try? FileManager.default.removeItem(at: output)
        try setUp()
        try run()
        return contents()
    }

    /// One drill: the run under `plan` (`enospc:write:N`, `kill:write:N`, …) fails as planned,
    /// leaves no damaged final file, and the rerun without it gives `reference`. Returns false
    /// when the plan's event never came (N past the run's last write): the run then succeeded.
    @discardableResult
    public func drill(
        _ plan: String, reference: FolderContents, fresh: Bool = true, file: StaticString = #filePath,
        line: UInt = #line
    ) throws -> Bool {
        if fresh {
            try? FileManager.default.removeItem(at: output)
            try setUp()
        }
        let failed = try BuiltTool.run(tool, arguments, environment: ["SMIS_FAULT": plan])
        if failed.status == 0 { return false }
        if plan.hasPrefix("enospc") {
            XCTAssertEqual(failed.status, 1, "\(plan): \(failed.errors)", file: file, line: line)
            XCTAssertTrue(
                failed.errors.contains("No space left on device"), "\(plan): \(failed.errors)", file: file, line: line)
            XCTAssertTrue(
                failed.errors.contains(output.lastPathComponent + "/"), "\(plan): \(failed.errors)", file: file,
                line: line)
        } else {
            XCTAssertEqual(failed.status, SIGKILL, "\(plan): \(failed.errors)", file: file, line: line)
        }
        let left = contents()
        for (path, bytes) in left.files where !Self.isTemporary(path) && !progress(path) {
            XCTAssertEqual(
                bytes, reference.files[path], "\(plan): \(path) is damaged or unexpected", file: file, line: line)
        }
        try run(file: file, line: line)
        assertSameFiles(contents(), reference, "\(plan), then a rerun", file: file, line: line)
        return true
    }

    /// Drills `action` (`enospc` or `kill`) at `point` on events 1, 2, 3, 5, 8, 13, 17, 21, …
    /// until one past the run's last event (the run then succeeds), at most `limit`; returns
    /// the number of drills that failed as planned.
    @discardableResult
    public func drillEvents(
        _ action: String, at point: String = "write", reference: FolderContents, limit: Int = 400,
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> Int {
        var (event, next, drilled) = (1, 2, 0)
        while event <= limit, try drill("\(action):\(point):\(event)", reference: reference, file: file, line: line) {
            drilled += 1
            // Fibonacci up to 13, then every 4th event: the last writes (reports, manifests)
            // matter as much as the first.
            (event, next) = next <= 13 ? (next, event + next) : (next, next + 4)
        }
        XCTAssertGreaterThan(drilled, 2, "the faults must hit the run", file: file, line: line)
        return drilled
    }

    /// An `AtomicFileWriter` temporary: `.NAME.partial-HOST-PID-RANDOM`, never a final name.
    public static func isTemporary(_ path: String) -> Bool {
        let name = (path as NSString).lastPathComponent
        return name.hasPrefix(".") && name.contains(".partial-")
    }
}
