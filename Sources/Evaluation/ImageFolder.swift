import Foundation
import ImageIO
import Tensor

/// The photos of a folder, as pytorch-fid's command finds them: the files directly inside it
/// whose extension is one the toolkit decodes (png, jpg, jpeg, tif, tiff, in any case), sorted
/// by name. Subfolders are not searched.
public enum ImageFolder {
    static let extensions: Set<String> = ["png", "jpg", "jpeg", "tif", "tiff"]

    /// The image files of `folder`, sorted.
    /// - Throws: ``EvaluationError/image(file:reason:)`` when the folder cannot be listed or
    ///   holds no image.
    public static func imagePaths(in folder: URL) throws -> [URL] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder.path) } catch {
            throw EvaluationError.image(
                file: folder.path, reason: "cannot list the folder: \(error.localizedDescription)")
        }
        let images = names.filter { extensions.contains(URL(fileURLWithPath: $0).pathExtension.lowercased()) }.sorted()
        guard !images.isEmpty else {
            throw EvaluationError.image(file: folder.path, reason: "no .png, .jpg or .tif images in the folder")
        }
        return images.map { folder.appendingPathComponent($0) }
    }

    /// Decodes one photo, naming the file in any error.
    public static func load(_ url: URL) throws -> Image {
        do { return try Image(contentsOfFile: url.path) } catch {
            throw EvaluationError.image(file: url.path, reason: "\(error)")
        }
    }
}

extension FIDInception {
    /// The pool3 features of the photos at `urls` (N × 2048, in their order), decoding and
    /// running `batchSize` at a time; consecutive photos of one size share a batch.
    public func features(ofImagesAt urls: [URL], batchSize: Int = 8) throws -> [Float] {
        var features: [Float] = []
        features.reserveCapacity(urls.count * Self.featureCount)
        var batch: [Image] = []
        func flush() throws {
            guard !batch.isEmpty else { return }
            features += try self.features(batchTensor(batch, scale: 1 / 255, shift: 0))
            batch.removeAll()
        }
        for url in urls {
            let image = try ImageFolder.load(url)
            if let first = batch.first, first.width != image.width || first.height != image.height { try flush() }
            batch.append(image)
            if batch.count == max(1, batchSize) { try flush() }
        }
        try flush()
        return features
    }

    /// The feature statistics of every photo in `folder` (see ``ImageFolder``).
    public func statistics(ofFolder folder: URL, batchSize: Int = 8) throws -> FeatureStatistics {
        try FeatureStatistics(
            features: features(ofImagesAt: ImageFolder.imagePaths(in: folder), batchSize: batchSize),
            dimension: Self.featureCount)
    }
}
