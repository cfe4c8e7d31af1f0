import Foundation
import ImageIO

extension SegmentationRecord {
    /// A segmentation record read from payload bytes without copying them: the encoded photo
    /// and label point into the payload (in shards: into the memory map).
    public struct View {
        public let key: String
        public let imageFormat: String
        public let width: Int
        public let height: Int
        public let imageBytes: UnsafeRawBufferPointer
        public let labelFormat: String
        public let labelBytes: UnsafeRawBufferPointer
        public let classCount: Int
        public let split: ClassSplit
        /// `instance/format` and `instance/encoded`, nil for a record without an instance map.
        public let instanceFormat: String?
        public let instanceBytes: UnsafeRawBufferPointer?

        /// Parses and checks a payload: every field present with its type, sizes positive,
        /// split lengths matching the class count, raw payloads of the right byte count.
        /// Errors carry the key when it could be read; the caller adds file, record and offset.
        public init(payload: UnsafeRawBufferPointer) throws {
            let example = try ExampleView(parsing: payload)
            let key = (try? example.string(Field.key))
            do {
                try self.init(example: example, key: key)
            } catch var error as RecordsError {
                error.key = key
                throw error
            }
        }

        private init(example: ExampleView, key: String?) throws {
            self.key = try example.string(Field.key)
            imageFormat = try example.string(Field.imageFormat)
            width = Int(try example.int64(Field.imageWidth))
            height = Int(try example.int64(Field.imageHeight))
            imageBytes = try example.bytes(Field.imageEncoded)
            labelFormat = try example.string(Field.labelFormat)
            labelBytes = try example.bytes(Field.labelEncoded)
            classCount = Int(try example.int64(Field.labelClasses))
            split = ClassSplit(
                boundingBoxes: try example.int64s(Field.splitBoundingBoxes),
                areas: try example.int64s(Field.splitAreas))
            // Both instance fields or neither: one alone is a damaged record, caught by `check`.
            let hasInstances =
                example.kind(of: Field.instanceEncoded) != nil || example.kind(of: Field.instanceFormat) != nil
            instanceFormat = hasInstances ? try example.string(Field.instanceFormat) : nil
            instanceBytes = hasInstances ? try example.bytes(Field.instanceEncoded) : nil
            try check()
        }

        private func check() throws {
            func invalid(_ message: String) -> RecordsError {
                RecordsError(file: "", key: key, reason: .invalidValue(message))
            }
            guard width > 0, height > 0, width <= 1 << 20, height <= 1 << 20 else {
                throw invalid("size \(width)×\(height)")
            }
            // Readers allocate width × height × 4 bytes before decoding: a record's claim may not
            // exceed what the decoders accept (a few bytes claiming 2²⁰ × 2²⁰ would take 4 TB).
            guard width * height <= DecodeLimits.default.maxPixels else {
                throw invalid("size \(width)×\(height) is over the \(DecodeLimits.default.maxPixels)-pixel limit")
            }
            guard (1...SegmentationRecord.maximumClassCount).contains(classCount) else {
                throw invalid("class count \(classCount)")
            }
            guard split.boundingBoxes.count == 4 * classCount, split.areas.count == classCount else {
                throw invalid(
                    "split has \(split.boundingBoxes.count) box values and \(split.areas.count) areas for "
                        + "\(classCount) classes")
            }
            guard ["jpeg", "png", "raw"].contains(imageFormat) else { throw invalid("image format \"\(imageFormat)\"") }
            guard ["png", "raw"].contains(labelFormat) else { throw invalid("label format \"\(labelFormat)\"") }
            if imageFormat == "raw", imageBytes.count != width * height * 3 {
                throw invalid("raw image of \(imageBytes.count) bytes for \(width)×\(height)×3")
            }
            if labelFormat == "raw", labelBytes.count != width * height {
                throw invalid("raw label of \(labelBytes.count) bytes for \(width)×\(height)")
            }
            if let instanceFormat, let instanceBytes {
                guard ["png", "raw"].contains(instanceFormat) else {
                    throw invalid("instance format \"\(instanceFormat)\"")
                }
                if instanceFormat == "raw", instanceBytes.count != width * height * 2 {
                    throw invalid("raw instance map of \(instanceBytes.count) bytes for \(width)×\(height)×2")
                }
            }
        }

        /// Whether the record holds an instance map.
        public var hasInstances: Bool { instanceBytes != nil }

        /// Decodes the instance map into `ids` (`width * height` values, caller-owned). Throws
        /// `.invalidValue` when the record has none.
        public func decodeInstances(into ids: UnsafeMutableBufferPointer<UInt16>) throws {
            guard let instanceFormat, let instanceBytes else {
                throw RecordsError(file: "", key: key, reason: .invalidValue("the record has no instance map"))
            }
            guard ids.count == width * height else {
                throw RecordsError(
                    file: "", key: key,
                    reason: .invalidArgument("instance buffer of \(ids.count) ids for \(width)×\(height)"))
            }
            if instanceFormat == "raw" {
                for index in 0..<ids.count {
                    ids[index] = UInt16(instanceBytes[2 * index]) | UInt16(instanceBytes[2 * index + 1]) << 8
                }
            } else {
                try InstanceMap.decode(
                    instanceBytes, source: "record \(key) instance map", into: ids, width: width, height: height)
            }
        }

        /// An owning decoded copy of the instance map, nil when the record has none.
        public func decodedInstances() throws -> InstanceMap? {
            guard hasInstances else { return nil }
            var ids = [UInt16](repeating: 0, count: width * height)
            try ids.withUnsafeMutableBufferPointer { try decodeInstances(into: $0) }
            return InstanceMap(width: width, height: height, values: ids)
        }

        /// Decodes the photo into `pixels` (`width * height * 3` bytes, caller-owned). Raw photos
        /// are copied; JPEG and PNG go through `Image.decode`, which checks the size.
        public func decodeImage(into pixels: UnsafeMutableBufferPointer<UInt8>) throws {
            try decode(imageBytes, format: imageFormat, what: "image", channels: 3, into: pixels) {
                try Image.decode($0, source: $1, into: $2, width: width, height: height)
            }
        }

        /// Decodes the label map into `values` (`width * height` bytes, caller-owned).
        public func decodeLabel(into values: UnsafeMutableBufferPointer<UInt8>) throws {
            try decode(labelBytes, format: labelFormat, what: "label", channels: 1, into: values) {
                try LabelMap.decode($0, source: $1, into: $2, width: width, height: height)
            }
        }

        /// Checks the caller's buffer (`width * height * channels` bytes), then copies a raw
        /// payload or hands an encoded one to `decoder` with its source name.
        private func decode(
            _ bytes: UnsafeRawBufferPointer, format: String, what: String, channels: Int,
            into buffer: UnsafeMutableBufferPointer<UInt8>,
            decoder: (UnsafeRawBufferPointer, String, UnsafeMutableBufferPointer<UInt8>) throws -> Void
        ) throws {
            guard buffer.count == width * height * channels else {
                let size = "\(width)×\(height)" + (channels == 1 ? "" : "×\(channels)")
                throw RecordsError(
                    file: "", key: key, reason: .invalidArgument("\(what) buffer of \(buffer.count) bytes for \(size)"))
            }
            if format == "raw" {
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: bytes)
            } else {
                try decoder(bytes, "record \(key) \(what)", buffer)
            }
        }

        /// Owning decoded copies, for tools and tests.
        public func decoded() throws -> (image: Image, label: LabelMap) {
            var pixels = [UInt8](repeating: 0, count: width * height * 3)
            var values = [UInt8](repeating: 0, count: width * height)
            try pixels.withUnsafeMutableBufferPointer { try decodeImage(into: $0) }
            try values.withUnsafeMutableBufferPointer { try decodeLabel(into: $0) }
            return (
                Image(width: width, height: height, pixels: pixels),
                LabelMap(width: width, height: height, values: values)
            )
        }
    }
}
