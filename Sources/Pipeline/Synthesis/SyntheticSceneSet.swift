import Foundation
import ImageIO

/// Writes synthetic scenes in a data set's own layout, for fixtures and tests:
///
/// - Cityscapes (`street`): `leftImg8bit/<split>/<city>/<city>_<seq>_000019_leftImg8bit.png`
///   photos and, under `gtFine/` with the same path, `_gtFine_labelIds.png` (8-bit ids),
///   `_gtFine_instanceIds.png` (16-bit) and `_gtFine_color.png` (Cityscapes' colours, which the
///   pipeline passes over). Samples go to train (aachen, bochum), val (frankfurt) and test
///   (berlin, whose label files hold only 0, as the real test set's do) in turn: 3 : 1 : 1.
/// - ADE20K (`indoor`): `images/<training|validation>/ADE_<train|val>_<NNNNNNNN>.jpg` and
///   `annotations/<same>.png` (8-bit ids 0...150); every third sample is validation. Sizes vary
///   like ADE20K's: odd samples are drawn in portrait.
public struct SyntheticSceneSet: Sendable {
    public var kind: SyntheticScene.Kind
    public var count: Int
    public var seed: UInt64
    /// Landscape size of each scene (odd ADE20K samples swap it).
    public var size: Size
    /// JPEG quality of ADE20K's photos (Cityscapes' are PNG).
    public var photoQuality: Int

    public init(kind: SyntheticScene.Kind, count: Int, seed: UInt64, size: Size, photoQuality: Int = 90) {
        (self.kind, self.count, self.seed, self.size, self.photoQuality) = (kind, count, seed, size, photoQuality)
    }

    /// Cityscapes' size (2048×1024) or a typical ADE20K one (512×384).
    public static func defaultSize(of kind: SyntheticScene.Kind) -> Size {
        kind == .street ? Size(width: 2048, height: 1024) : Size(width: 512, height: 384)
    }

    /// Draws and writes every scene; returns the files' stems relative to `folder`, in order.
    @discardableResult
    public func write(to folder: String) throws -> [String] {
        try (0..<count).map { index in
            switch kind {
            case .street: return try writeStreet(index, to: folder)
            case .indoor: return try writeRoom(index, to: folder)
            }
        }
    }

    private func writeStreet(_ index: Int, to folder: String) throws -> String {
        let (split, city): (String, String)
        switch index % 5 {
        case 3: (split, city) = ("val", "frankfurt")
        case 4: (split, city) = ("test", "berlin")
        default: (split, city) = ("train", index % 5 == 1 ? "bochum" : "aachen")
        }
        let stem = "\(split)/\(city)/\(city)_\(String(format: "%06d", index))_000019"
        let scene = SyntheticScene(kind: .street, seed: seed, index: index, width: size.width, height: size.height)
        var label = scene.label, instances = scene.instances!
        if split == "test" {
            label = LabelMap(width: label.width, height: label.height)
            instances = InstanceMap(width: label.width, height: label.height)
        }
        try writeThrowAway(
            scene.photo.encodedPNG(compressionLevel: 9), to: "\(folder)/leftImg8bit/\(stem)_leftImg8bit.png")
        let gt = "\(folder)/gtFine/\(stem)_gtFine"
        try writeThrowAway(label.encodedPNG(compressionLevel: 9), to: gt + "_labelIds.png")
        try writeThrowAway(instances.encodedPNG(compressionLevel: 9), to: gt + "_instanceIds.png")
        try writeThrowAway(
            label.encodedPNG(palette: Self.cityscapesColours, compressionLevel: 9), to: gt + "_color.png")
        return stem
    }

    private func writeRoom(_ index: Int, to folder: String) throws -> String {
        let validation = index % 3 == 2
        let number = validation ? index / 3 + 1 : index - index / 3 + 1
        let stem =
            validation
            ? "validation/ADE_val_\(String(format: "%08d", number))"
            : "training/ADE_train_\(String(format: "%08d", number))"
        let (width, height) = index % 2 == 1 ? (size.height, size.width) : (size.width, size.height)
        let scene = SyntheticScene(kind: .indoor, seed: seed, index: index, width: width, height: height)
        try writeThrowAway(scene.photo.encodedJPEG(quality: photoQuality), to: "\(folder)/images/\(stem).jpg")
        try writeThrowAway(scene.label.encodedPNG(compressionLevel: 9), to: "\(folder)/annotations/\(stem).png")
        return stem
    }

    /// Cityscapes' colours of labelIds 0...33 (labels.py), as its `_gtFine_color.png` draws them.
    static let cityscapesColours: [(UInt8, UInt8, UInt8)] = [
        (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), (111, 74, 0), (81, 0, 81), (128, 64, 128),
        (244, 35, 232), (250, 170, 160), (230, 150, 140), (70, 70, 70), (102, 102, 156), (190, 153, 153),
        (180, 165, 180), (150, 100, 100), (150, 120, 90), (153, 153, 153), (153, 153, 153), (250, 170, 30),
        (220, 220, 0), (107, 142, 35), (152, 251, 152), (70, 130, 180), (220, 20, 60), (255, 0, 0), (0, 0, 142),
        (0, 0, 70), (0, 60, 100), (0, 0, 90), (0, 0, 110), (0, 80, 100), (0, 0, 230), (119, 11, 32)
    ]
}
