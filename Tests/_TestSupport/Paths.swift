import Foundation

/// Locations that tests share: the repository root, its `Fixtures/`, and the read-only
/// `../shared` folder beside the clone (real parser output used in tests, never committed).
public enum TestPaths {
    /// The repository root, found from this source file's path.
    public static let repositoryRoot: URL = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }()

    /// `Fixtures/` in the repository.
    public static var fixtures: URL { repositoryRoot.appendingPathComponent("Fixtures") }

    /// `../shared` beside the repository (present on developer machines and in CI).
    public static var shared: URL { repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared") }

    /// `.cache/` in the repository: downloaded conformance files, never committed.
    public static var cache: URL { repositoryRoot.appendingPathComponent(".cache") }
}
