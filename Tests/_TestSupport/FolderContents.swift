import Foundation
import XCTest

/// Every file under a folder, by path relative to it, with its bytes: what a rerun after a
/// crash or a full disk must reproduce exactly. Symbolic links and folders are not listed.
public struct FolderContents: Equatable {
    public var files: [String: [UInt8]]

    /// Reads `folder`, leaving out the files `excluding` names (relative paths) and removing
    /// from every text file the lines `timeLines` matches (lines that carry times or
    /// durations, the only bytes two runs may differ in).
    public init(_ folder: URL, excluding: (String) -> Bool = { _ in false }, timeLines: NSRegularExpression? = nil) {
        files = [:]
        let root = folder.resolvingSymlinksInPath().path
        guard let walker = FileManager.default.enumerator(atPath: root) else { return }
        for case let relative as String in walker where !excluding(relative) {
            let path = root + "/" + relative
            var status = stat()
            guard lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG,
                let data = FileManager.default.contents(atPath: path)
            else { continue }
            files[relative] = timeLines.map { Self.removingLines(matching: $0, from: Array(data)) } ?? Array(data)
        }
    }

    /// `bytes` without the lines `pattern` matches, when they are UTF-8 text; else unchanged.
    static func removingLines(matching pattern: NSRegularExpression, from bytes: [UInt8]) -> [UInt8] {
        guard let text = String(bytes: bytes, encoding: .utf8) else { return bytes }
        let kept = text.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
            let line = String(line)
            return pattern.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) == nil
        }
        return Array(kept.joined(separator: "\n").utf8)
    }

    /// The paths whose bytes differ, or that only one side holds, sorted.
    public func differences(from other: FolderContents) -> [String] {
        Set(files.keys).union(other.files.keys).filter { files[$0] != other.files[$0] }.sorted()
    }
}

/// Fails naming every file that differs between `actual` and `expected` (at most ten).
public func assertSameFiles(
    _ actual: FolderContents, _ expected: FolderContents, _ message: String = "", file: StaticString = #filePath,
    line: UInt = #line
) {
    let differing = actual.differences(from: expected)
    XCTAssertTrue(
        differing.isEmpty,
        "\(message): \(differing.count) files differ: \(differing.prefix(10).joined(separator: ", "))",
        file: file, line: line)
}
