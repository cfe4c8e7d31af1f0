import Applications
import ArgumentParser
import AtomicFiles
import Foundation
import ImageIO
import Tensor
import Training

// The arguments that the application commands (generate's --mix and --relabel, morph, grid)
// share, parsed once here so that every command spells and checks them alike.

/// `PHOTO:LABEL`: a style photo and its label map. The last colon separates them, so the
/// photo's path may hold colons and the label map's may not.
struct StylePaths: Equatable {
    var photo: String
    var label: String

    /// Parses `text`, given to `option`; the error names both.
    init(parsing text: String, option: String) throws {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex, text.index(after: colon) != text.endIndex
        else {
            throw ValidationError("\(option) \(text): expected PHOTO:LABEL (a photo and its label map).")
        }
        photo = String(text[..<colon])
        label = String(text[text.index(after: colon)...])
    }

    /// The photo and label map, read and checked (with `resize`, resampled to the model's size).
    func read(with synthesizer: ImageSynthesizer, resize: Bool) throws -> StyleExample {
        try StyleExample(
            photo: Image(contentsOfFile: photo), label: synthesizer.labelMap(contentsOfFile: label, resize: resize))
    }
}

/// `CLASS=PHOTO:LABEL` of `--mix`: class CLASS's appearance from that photo.
struct MixArgument: Equatable {
    var className: String
    var style: StylePaths

    init(parsing text: String) throws {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex,
            let style = try? StylePaths(parsing: String(text[text.index(after: equals)...]), option: "--mix")
        else {
            throw ValidationError("--mix \(text): expected CLASS=PHOTO:LABEL.")
        }
        className = String(text[..<equals])
        self.style = style
    }
}

/// Where a latent code comes from: N(0, I) from a seed, or the encoder on a photo.
enum LatentSource: Equatable {
    case seed(UInt64)
    case style(StylePaths)

    /// A number is a seed; anything else is `PHOTO:LABEL`.
    init(parsing text: String, option: String) throws {
        if let seed = UInt64(text) {
            self = .seed(seed)
        } else {
            self = .style(try StylePaths(parsing: text, option: option))
        }
    }

    /// The code; an encoding draws its ε from `random`.
    func latent(with synthesizer: ImageSynthesizer, resize: Bool, using random: inout RandomSource) throws -> Tensor {
        switch self {
        case let .seed(seed):
            var own = RandomSource(seed: seed)
            return synthesizer.randomLatent(using: &own)
        case let .style(paths):
            let style = try paths.read(with: synthesizer, resize: resize)
            return try synthesizer.encodedLatent(style: style.photo, label: style.label, using: &random)
        }
    }
}

/// Class names or ids separated by commas (`--classes hair,top-clothes`), as class indices.
func classIndices(_ list: String, of synthesizer: ImageSynthesizer, option: String) throws -> [Int] {
    let names = list.split(separator: ",", omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces)
    }
    let indices = try names.map { try synthesizer.classIndex(named: $0, argument: option) }
    if Set(indices).count != indices.count {
        throw ApplicationError.invalidArgument(option, reason: "\(list) names a class twice")
    }
    return indices
}

/// The application commands generate without instance edges: say so for a model that has them.
func refuseInstanceEdges(_ synthesizer: ImageSynthesizer, _ what: String) throws {
    if synthesizer.configuration.hasInstanceEdges {
        throw ValidationError("\(what) does not take instance maps yet; the checkpoint's model needs them.")
    }
}

/// Creates the folder `path` (and its parents); refuses a file of that name, naming it.
func outputFolder(_ path: String) throws -> URL {
    let output = URL(fileURLWithPath: path)
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: output.path, isDirectory: &isFolder), !isFolder.boolValue {
        throw TrainingError.invalidInput(file: output.path, reason: "--out is a file, not a folder")
    }
    do { try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true) } catch {
        throw TrainingError.invalidInput(
            file: output.path, reason: "cannot create the output folder: \(error.localizedDescription)")
    }
    return output
}

/// Writes `image` as a PNG atomically and prints its path.
func writeImage(_ image: Image, to url: URL) throws {
    try ImageSynthesizer.writePNG(image, to: url)
    print(url.path)
}

/// Writes `bytes` atomically (never a half-written file under `url`'s name) and prints its path.
func writeFile(_ bytes: [UInt8], to url: URL) throws {
    try AtomicFileWriter.write(bytes, to: url.path)
    print(url.path)
}
