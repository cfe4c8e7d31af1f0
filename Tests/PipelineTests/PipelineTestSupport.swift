import AtomicFiles
import Foundation
import ImageIO
import Statistics
import XCTest
import _TestSupport
@testable import Pipeline

/// Paths and helpers shared by the pipeline tests.
enum PipelineFixtures {
    static var pipelines: String { TestPaths.repositoryRoot.appendingPathComponent("Pipelines").path }
    static var deepfashionFile: String { pipelines + "/deepfashion.yaml" }

    static func lip() throws -> LabelSet { try LabelSet(contentsOfFile: pipelines + "/sources/lip.yaml") }

    /// The bundled pipeline for a source, with optional overrides.
    static func configuration(
        source: String = "lip", _ edit: (inout PipelineOverrides) -> Void = { _ in }
    ) throws -> PipelineConfiguration {
        var overrides = PipelineOverrides()
        overrides.source = source
        edit(&overrides)
        return try PipelineConfiguration(contentsOfFile: deepfashionFile, overrides: overrides)
    }

    /// Writes a test input, creating its folders (no fsync: the files are thrown away).
    static func write<Bytes: Sequence>(_ bytes: Bytes, to path: String) throws where Bytes.Element == UInt8 {
        try AtomicFileWriter.write(bytes, to: path, options: AtomicWriteOptions(durable: false, createFolders: true))
    }

    /// Skips a test that needs the real codecs until ImageIO's implementation is merged.
    static func requireCodecs() throws {
        do { _ = try Image(width: 1, height: 1).encodedPNG() } catch let error as ImageIOError {
            if case .unsupported = error.reason { throw XCTSkip("ImageIO codecs are not implemented in this build") }
            throw error
        }
    }
}

extension LabelMap {
    /// A label map from rows of values (tests).
    init(rows: [[UInt8]]) {
        self.init(width: rows.first?.count ?? 0, height: rows.count, values: rows.flatMap { $0 })
    }
}
