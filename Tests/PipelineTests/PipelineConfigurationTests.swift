import Records
import Statistics
import XCTest
@testable import Pipeline

final class PipelineConfigurationTests: XCTestCase {
    func testBundledLIPTableMatchesTheSpecification() throws {
        let configuration = try PipelineFixtures.configuration()
        XCTAssertEqual(configuration.classMapping.names,
                       ["hair", "face", "skin", "top-clothes", "bottom-clothes", "socks", "shoes", "background"])
        let remap = LabelRemap(classMapping: configuration.classMapping, ignore: configuration.ignore)
        // data.md: LIP id → target id.
        let expected: [Int: UInt8] = [
            0: 7, 1: 0, 2: 0, 3: 3, 4: 1, 5: 3, 6: 3, 7: 3, 8: 5, 9: 4, 10: 3, 11: 3, 12: 4, 13: 1,
            14: 2, 15: 2, 16: 2, 17: 2, 18: 6, 19: 6, 255: 7,
        ]
        for value in 0..<256 {
            XCTAssertEqual(remap.table[value], expected[value] ?? LabelRemap.unmapped, "LIP value \(value)")
        }
        XCTAssertEqual(configuration.filter.classNames, ["glove"])
        XCTAssertEqual(configuration.filter.sourceIDs, [3])
        XCTAssertEqual(configuration.filter.threshold, .percent(0.1))
        XCTAssertEqual(
            configuration.resize,
            ResizeSettings(size: Size(width: 256, height: 256), fit: .stretch, photoFilter: .bicubic))
        XCTAssertEqual(configuration.partition, PartitionSettings(list: nil, validationFraction: 0.08))
    }

    func testCIHPMapsTorsoSkinToSkinAndATRUsesItsOwnOrder() throws {
        let cihp = LabelRemap(
            classMapping: try PipelineFixtures.configuration(source: "cihp").classMapping,
            ignore: IgnoreRule(becomes: nil))
        XCTAssertEqual(cihp.table[10], 2, "CIHP 10 is torso-skin → skin")
        XCTAssertEqual(cihp.table[3], 3, "glove → top-clothes")
        let atrConfiguration = try PipelineFixtures.configuration(source: "atr") { $0.filterClasses = [] }
        XCTAssertEqual(atrConfiguration.source.ids.count, 18)
        let atr = LabelRemap(classMapping: atrConfiguration.classMapping, ignore: IgnoreRule(becomes: nil))
        // ATR: 3 sunglasses, 4 upper-clothes, 6 pants, 9/10 shoes, 11 face, 12/13 legs, 16 bag.
        XCTAssertEqual([3, 4, 6, 9, 10, 11, 12, 13, 16].map { atr.table[$0] }, [1, 3, 4, 6, 6, 1, 2, 2, 3])
        XCTAssertEqual(atr.table[18], LabelRemap.unmapped)
    }

    func testGloveFilterIsRefusedForATRWhichHasNoGlove() throws {
        XCTAssertThrowsError(try PipelineFixtures.configuration(source: "atr")) { error in
            let error = error as! PipelineFileError
            XCTAssertEqual(error.reason, .unknownSourceClass("glove", source: "atr"))
        }
    }

    // MARK: Refused files name the line and the reason

    /// A small source set and a pipeline built on it, with one line replaced per test.
    private let tiny = LabelSet(source: "tiny", classes: [0: "background", 1: "hair", 2: "glove", 3: "face"])
    private let tinyPipeline = """
        source: tiny
        classes: [hair, face, background]
        mapping:
          tiny:
            hair: [hair, glove]
            face: [face]
            background: [background]
        ignore:
          value: 255
          becomes: background
        filter:
          classes: [glove]
          threshold: 10
        """

    private func load(
        _ text: String, overrides: PipelineOverrides = PipelineOverrides()
    ) throws -> PipelineConfiguration {
        try PipelineConfiguration(yaml: text, file: "test.yaml", overrides: overrides) { _ in self.tiny }
    }

    private func assertRefused(
        _ text: String, line: Int?, _ reason: PipelineFileError.Reason, file: StaticString = #filePath,
        at sourceLine: UInt = #line
    ) {
        XCTAssertThrowsError(try load(text), file: file, line: sourceLine) { error in
            guard let error = error as? PipelineFileError else {
                return XCTFail("\(error)", file: file, line: sourceLine)
            }
            XCTAssertEqual(error.line, line, "\(error)", file: file, line: sourceLine)
            XCTAssertEqual(error.reason, reason, "\(error)", file: file, line: sourceLine)
        }
    }

    func testTinyPipelineLoads() throws {
        let configuration = try load(tinyPipeline)
        XCTAssertEqual(configuration.classMapping.sourceIDsByTarget, [[1, 2], [3], [0]])
        XCTAssertEqual(configuration.ignore, IgnoreRule(value: 255, becomes: 2))
        XCTAssertEqual(configuration.filter.threshold, .pixels(10))
    }

    func testUnknownTargetClassIsRefusedWithItsLine() {
        assertRefused(
            tinyPipeline.replacingOccurrences(of: "    face: [face]", with: "    fase: [face]"), line: 6,
            .unknownTargetClass("fase"))
    }

    func testUnknownSourceClassIsRefusedWithItsLine() {
        assertRefused(tinyPipeline.replacingOccurrences(of: "face: [face]", with: "face: [face, nose]"), line: 6,
                      .unknownSourceClass("nose", source: "tiny"))
    }

    func testSourceIDMappedTwiceIsRefused() {
        assertRefused(tinyPipeline.replacingOccurrences(of: "face: [face]", with: "face: [face, glove]"), line: 6,
                      .duplicated("source id 2 (glove, already in 'hair')"))
    }

    func testUnmappedSourceIDIsRefused() {
        assertRefused(tinyPipeline.replacingOccurrences(of: "hair: [hair, glove]", with: "hair: [hair]"), line: 4,
                      .unmappedSourceID(2, name: "glove", source: "tiny"))
    }

    func testMisspeltKeyIsRefusedWithASuggestion() {
        assertRefused(tinyPipeline.replacingOccurrences(of: "  threshold: 10", with: "  treshold: 10"), line: 13,
                      .unknownKey("treshold", suggestion: "threshold"))
        assertRefused(tinyPipeline.replacingOccurrences(of: "ignore:", with: "ignor:"), line: 8,
                      .unknownKey("ignor", suggestion: "ignore"))
    }

    func testDuplicatedKeyAndClassAreRefused() {
        assertRefused(
            tinyPipeline.replacingOccurrences(
                of: "classes: [hair, face, background]", with: "classes: [hair, face, hair, background]"),
            line: 2, .duplicated("class 'hair'"))
        assertRefused(tinyPipeline + "\nsource: tiny\n", line: 1, .duplicated("key 'source'"))
    }

    func testBadValuesAreRefused() {
        assertRefused(tinyPipeline.replacingOccurrences(of: "threshold: 10", with: "threshold: lots"), line: 13,
                      .invalidValue(key: "filter.threshold", expected: "a pixel count (500) or a percentage (0.1%)"))
        assertRefused(tinyPipeline + "\nresize:\n  fit: squash\n", line: 15,
                      .invalidValue(key: "resize.fit", expected: "one of stretch, pad, crop"))
        assertRefused(
            tinyPipeline.replacingOccurrences(of: "becomes: background", with: "becomes: sky"), line: 10,
            .unknownTargetClass("sky"))
        assertRefused(tinyPipeline.replacingOccurrences(of: "value: 255", with: "value: 3"), line: 10,
                      .invalidValue(key: "ignore.value", expected: "a value that is not a source id"))
        assertRefused("source: tiny\nclasses: [a\n", line: 3, .syntax("did not find expected ',' or ']'"))
    }

    func testMissingMappingForChosenSourceIsRefused() {
        assertRefused(
            tinyPipeline.replacingOccurrences(of: "  tiny:", with: "  other:"), line: 1,
            .missingMapping(source: "tiny"))
    }

    func testIgnoreRejectAcceptsNoIgnoreValue() throws {
        let configuration = try load(
            tinyPipeline.replacingOccurrences(of: "becomes: background", with: "becomes: reject"))
        XCTAssertNil(configuration.ignore.becomes)
        XCTAssertFalse(SampleCheck(source: tiny, ignore: configuration.ignore).accepted[255])
        XCTAssertEqual(
            LabelRemap(classMapping: configuration.classMapping, ignore: configuration.ignore).table[255],
            LabelRemap.unmapped)
    }

    func testLabelSetFileErrorsNameTheLine() {
        let twice = "name: x\nclasses:\n  0: a\n  1: b\n  1: c\n"
        XCTAssertThrowsError(try LabelSet(yaml: twice, file: "x.yaml")) { error in
            XCTAssertEqual((error as? PipelineFileError)?.reason, .duplicated("key '1'"))
            XCTAssertEqual((error as? PipelineFileError)?.line, 4)
        }
        XCTAssertThrowsError(try LabelSet(yaml: "name: x\nclasses:\n  0: a\n  1: a\n", file: "x.yaml")) { error in
            XCTAssertEqual((error as? PipelineFileError)?.reason, .duplicated("class name 'a'"))
            XCTAssertEqual((error as? PipelineFileError)?.line, 4)
        }
        XCTAssertThrowsError(try LabelSet(yaml: "name: x\nclasses:\n  0: a\n  255: b\n", file: "x.yaml")) { error in
            XCTAssertEqual((error as? PipelineFileError)?.line, 4)
        }
        XCTAssertThrowsError(try LabelSet(yaml: "name: x\nclases:\n  0: a\n", file: "x.yaml")) { error in
            XCTAssertEqual((error as? PipelineFileError)?.reason, .unknownKey("clases", suggestion: "classes"))
            XCTAssertEqual(
                (error as? PipelineFileError)?.description, "x.yaml:2: unknown key 'clases' (did you mean 'classes'?)")
        }
    }

    // MARK: The shard stage (outputs.shards)

    private var tinyWithShards: String {
        tinyPipeline + "\noutputs:\n  shards:\n    directory: out/shards\n"
            + "    records-per-shard: 4\n    image: jpeg:90\n    label: raw\n"
    }

    func testShardSectionLoadsWithDefaultsAndReadsBack() throws {
        let configuration = try load(tinyWithShards)
        XCTAssertEqual(
            configuration.outputs.shards,
            ShardSettings(directory: "out/shards", sizing: .records(4), image: .jpeg(quality: 90), label: .raw))
        let defaults = try load(tinyPipeline + "\noutputs:\n  shards:\n    directory: s\n")
        XCTAssertEqual(
            defaults.outputs.shards,
            ShardSettings(directory: "s", sizing: .bytes(256_000_000), image: .jpeg(quality: nil), label: .png))
        XCTAssertEqual(
            try load(tinyPipeline + "\noutputs:\n  shards:\n    directory: s\n    shard-size: 64MiB\n")
                .outputs.shards?.sizing,
            .bytes(64 << 20))
        XCTAssertNil(try load(tinyPipeline + "\noutputs:\n  shards: null\n").outputs.shards)
        XCTAssertNil(try load(tinyPipeline).outputs.shards)

        let text = configuration.renderedYAML()
        XCTAssertTrue(
            text.hasSuffix(
                "  shards:\n    directory: \"out/shards\"\n    records-per-shard: 4\n"
                    + "    image: \"jpeg:90\"\n    label: raw\n"),
            text)
        XCTAssertEqual(try load(text).outputs, configuration.outputs)
    }

    /// The runner's resume fingerprint leaves the shard settings out (the shard writer resumes
    /// on its own), and names the source label set by what it is, however it was referred to.
    func testPreparationFingerprintIgnoresOnlyTheShardSettings() throws {
        let withShards = try load(tinyWithShards)
        let otherShards = try load(
            tinyWithShards.replacingOccurrences(of: "records-per-shard: 4", with: "shard-size: 1MB"))
        let without = try load(tinyPipeline)
        XCTAssertNotEqual(withShards.renderedYAML(), otherShards.renderedYAML())
        XCTAssertEqual(withShards.preparationFingerprint, otherShards.preparationFingerprint)
        XCTAssertEqual(withShards.preparationFingerprint, without.preparationFingerprint)
        XCTAssertTrue(
            without.preparationFingerprint.hasSuffix("# source label set: 0=background, 1=hair, 2=glove, 3=face\n"),
            without.preparationFingerprint)
        let byPath = try load(
            tinyPipeline.replacingOccurrences(of: "source: tiny", with: "source: /elsewhere/tiny.yaml"))
        XCTAssertNotEqual(byPath.renderedYAML(), without.renderedYAML())
        XCTAssertEqual(byPath.preparationFingerprint, without.preparationFingerprint)
        XCTAssertFalse(withShards.preparationFingerprint.contains("shards"))
        let otherSample = try load(tinyWithShards.replacingOccurrences(of: "threshold: 10", with: "threshold: 11"))
        XCTAssertNotEqual(otherSample.preparationFingerprint, withShards.preparationFingerprint)
    }

    func testShardSectionRefusalsNameTheLine() {
        // (the text replaced, its replacement), the line refused, and why.
        let refusals: [(edit: (String, String), line: Int, reason: PipelineFileError.Reason)] = [
            (("records-per-shard: 4", "records-per-shrad: 4"), 17,
             .unknownKey("records-per-shrad", suggestion: "records-per-shard")),
            (("    label: raw", "    label: raw\n    shard-size: 1MB"), 20,
             .invalidValue(key: "outputs.shards", expected: "given either records-per-shard or shard-size, not both")),
            (("records-per-shard: 4", "records-per-shard: 0"), 17,
             .invalidValue(key: "outputs.shards.records-per-shard", expected: "an integer in 1...1000000000")),
            (("jpeg:90", "jpeg:101"), 18,
             .invalidValue(key: "outputs.shards.image", expected: "jpeg, jpeg:Q with Q in 1...100, png or raw")),
            (("label: raw", "label: tiff"), 19,
             .invalidValue(key: "outputs.shards.label", expected: "one of png, raw")),
            (("    directory: out/shards\n", ""), 16, .missingKey("directory")),
            (("outputs:\n", "outputs:\n  prepared: false\n"), 16,
             .invalidValue(
                key: "outputs.shards",
                expected: "left out when outputs.prepared is false (shards are packed from the prepared folders)")),
        ]
        for refusal in refusals {
            let text = tinyWithShards.replacingOccurrences(of: refusal.edit.0, with: refusal.edit.1)
            assertRefused(text, line: refusal.line, refusal.reason)
        }
    }

    func testShardOverridesAddOrChangeTheSection() throws {
        var overrides = PipelineOverrides()
        overrides.shardDirectory = "elsewhere"
        overrides.shardSizing = .bytes(1000)
        let changed = try load(tinyWithShards, overrides: overrides)
        XCTAssertEqual(
            changed.outputs.shards,
            ShardSettings(directory: "elsewhere", sizing: .bytes(1000), image: .jpeg(quality: 90), label: .raw))
        let added = try load(tinyPipeline, overrides: overrides)
        XCTAssertEqual(added.outputs.shards, ShardSettings(directory: "elsewhere", sizing: .bytes(1000)))
        let marked = added.renderedYAML(baseline: try load(tinyPipeline))
        XCTAssertTrue(marked.contains("  shards:   # changed (was null)\n"), marked)
        let remarked = changed.renderedYAML(baseline: try load(tinyWithShards))
        XCTAssertTrue(remarked.contains("shard-size: 1000   # changed (was records-per-shard: 4)"), remarked)
        XCTAssertTrue(remarked.contains("    label: raw\n"), remarked)

        var sizeOnly = PipelineOverrides()
        sizeOnly.shardLabel = .png
        XCTAssertThrowsError(try load(tinyPipeline, overrides: sizeOnly)) { error in
            XCTAssertEqual(
                "\(error)",
                "command line: 'outputs.shards' must be given (--shards DIR) "
                    + "for the shard size and encoding options to apply")
        }
    }

    // MARK: Overrides and the effective file

    func testOverridesReplaceFileValuesAndUnknownFilterClassIsRefused() throws {
        let configuration = try PipelineFixtures.configuration {
            $0.filterClasses = ["glove", "sunglasses"]
            $0.filterThreshold = .pixels(500)
            $0.size = Size(width: 128, height: 192)
            $0.fit = .pad
            $0.validationFraction = 0.25
        }
        XCTAssertEqual(configuration.filter.sourceIDs, [3, 4])
        XCTAssertEqual(configuration.filter.threshold, .pixels(500))
        XCTAssertEqual(configuration.resize.size.width, 128)
        XCTAssertEqual(configuration.resize.size.height, 192)
        XCTAssertEqual(configuration.resize.fit, .pad)
        XCTAssertEqual(configuration.partition.validationFraction, 0.25)
        XCTAssertThrowsError(try PipelineFixtures.configuration { $0.filterClasses = ["glvoe"] }) { error in
            XCTAssertEqual((error as? PipelineFileError)?.reason, .unknownSourceClass("glvoe", source: "lip"))
        }
    }

    func testEffectiveFileReadsBackToTheSameConfigurationAndMarksChanges() throws {
        let baseline = try PipelineFixtures.configuration()
        let configuration = try PipelineFixtures.configuration {
            $0.filterThreshold = .pixels(500)
            $0.images = "/data/img"
        }
        let sourcePath = PipelineFixtures.pipelines + "/sources/lip.yaml"
        let text = configuration.renderedYAML(baseline: baseline, sourcePath: sourcePath)
        XCTAssertTrue(text.contains("threshold: \"500\"   # changed (was 0.1%)"), text)
        XCTAssertTrue(text.contains("images: \"/data/img\"   # changed (was null)"), text)
        XCTAssertFalse(text.contains("size: 256x256   # changed"), text)
        let reread = try PipelineConfiguration(yaml: text, file: "pipeline.yaml") { try LabelSet(contentsOfFile: $0) }
        XCTAssertEqual(reread.classMapping, configuration.classMapping)
        XCTAssertEqual(reread.filter, configuration.filter)
        XCTAssertEqual(reread.resize, configuration.resize)
        XCTAssertEqual(reread.partition, configuration.partition)
        XCTAssertEqual(reread.ignore, configuration.ignore)
        XCTAssertEqual(reread.images, "/data/img")
    }

    func testThresholdAndSizeParsing() {
        XCTAssertEqual(FilterThreshold(parsing: "500"), .pixels(500))
        XCTAssertEqual(FilterThreshold(parsing: "0.5%"), .percent(0.5))
        XCTAssertNil(FilterThreshold(parsing: "-1"))
        XCTAssertNil(FilterThreshold(parsing: "101%"))
        XCTAssertEqual(FilterThreshold.percent(0.1).limit(forPixelCount: 750 * 1101), 825.75, accuracy: 1e-9)
        XCTAssertEqual(Size(parsing: "256x256")?.width, 256)
        XCTAssertEqual(Size(parsing: "750×1101")?.height, 1101)
        XCTAssertNil(Size(parsing: "256"))
        XCTAssertNil(Size(parsing: "0x5"))
        XCTAssertNil(Size(parsing: "256x256x"))
        XCTAssertNil(Size(parsing: "x256x256"))
    }

    /// Class names become file names (per-class crops, the contact sheet).
    func testClassNamesThatCannotBeFileNamesAreRefused() {
        for bad in ["hair/../../escaped", "..", "a\\b"] {
            let yaml = tinyPipeline.replacingOccurrences(
                of: "classes: [hair, face, background]", with: "classes: [\"\(bad)\", face, background]")
                .replacingOccurrences(of: "    hair: [hair, glove]", with: "    \"\(bad)\": [hair, glove]")
            XCTAssertThrowsError(try load(yaml), bad) { error in
                XCTAssertEqual((error as? PipelineFileError)?.line, 2, "\(error)")
                XCTAssertTrue("\(error)".contains("names usable in file names"), "\(error)")
            }
        }
        let quoted = tinyPipeline.replacingOccurrences(of: "classes: [hair,", with: "classes: [ha\"ir,")
            .replacingOccurrences(of: "    hair: [hair, glove]", with: "    ha\"ir: [hair, glove]")
        XCTAssertEqual(
            try load(quoted).classMapping.names.first, "ha\"ir", "a quote is fine (classes.json escapes it)")
    }
}
