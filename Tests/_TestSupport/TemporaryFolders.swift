import Foundation
import XCTest

extension XCTestCase {
    /// A fresh, empty folder under the system's temporary folder, named `PREFIX-UUID`, removed
    /// with everything in it when the test ends, even where the test made part of it read-only.
    public func temporaryFolder(_ prefix: String = "smis-tests") throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { removeTemporaryFolder(folder) }
        return folder
    }
}

/// A test case whose every test gets a fresh `folder` (see ``XCTestCase/temporaryFolder(_:)``).
open class TemporaryFolderTestCase: XCTestCase {
    public var folder: URL!

    open override func setUpWithError() throws {
        try super.setUpWithError()
        folder = try temporaryFolder(String(describing: type(of: self)))
    }
}

/// Gives the owner back write and search permission on every folder below `folder` (tests
/// make folders read-only to provoke write errors), then removes it.
private func removeTemporaryFolder(_ folder: URL) {
    let manager = FileManager.default
    chmod(folder.path, 0o755)
    if let walker = manager.enumerator(atPath: folder.path) {
        for case let relative as String in walker {
            let path = folder.appendingPathComponent(relative).path
            var isFolder: ObjCBool = false
            if manager.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue { chmod(path, 0o755) }
        }
    }
    try? manager.removeItem(at: folder)
}
