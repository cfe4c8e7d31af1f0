import ImageIO

/// A rectangle in pixels.
public struct PixelRect: Equatable, Sendable, Codable {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }
}

/// Where the source goes in the output for a fit: which part of the source is scaled
/// (`sourceCrop`) to which part of the output (`placement`). Pure arithmetic, no pixels.
public struct FitGeometry: Equatable, Sendable {
    public let sourceCrop: PixelRect
    public let placement: PixelRect

    /// - `stretch`: the whole source onto the whole output.
    /// - `crop`: the largest centred source rectangle of the output's aspect, onto the output.
    /// - `pad`: the whole source, scaled to fit inside and centred; the rest is padding.
    public init(sourceWidth: Int, sourceHeight: Int, width: Int, height: Int, fit: ResizeSettings.Fit) {
        let whole = PixelRect(x: 0, y: 0, width: sourceWidth, height: sourceHeight)
        let output = PixelRect(x: 0, y: 0, width: width, height: height)
        // Compare aspects exactly with integers: sw/sh against w/h.
        let sourceWider = sourceWidth * height > width * sourceHeight
        switch fit {
        case .stretch:
            sourceCrop = whole
            placement = output
        case .crop:
            placement = output
            if sourceWider {
                let cropWidth = max(1, (sourceHeight * width + height / 2) / height)
                sourceCrop = PixelRect(x: (sourceWidth - cropWidth) / 2, y: 0, width: cropWidth, height: sourceHeight)
            } else {
                let cropHeight = max(1, (sourceWidth * height + width / 2) / width)
                sourceCrop = PixelRect(x: 0, y: (sourceHeight - cropHeight) / 2, width: sourceWidth, height: cropHeight)
            }
        case .pad:
            sourceCrop = whole
            if sourceWider {
                let placedHeight = max(1, (sourceHeight * width + sourceWidth / 2) / sourceWidth)
                placement = PixelRect(x: 0, y: (height - placedHeight) / 2, width: width, height: placedHeight)
            } else {
                let placedWidth = max(1, (sourceWidth * height + sourceHeight / 2) / sourceHeight)
                placement = PixelRect(x: (width - placedWidth) / 2, y: 0, width: placedWidth, height: height)
            }
        }
    }
}

extension Image {
    /// The pixels inside `rect` (which must lie inside the image).
    public func cropped(to rect: PixelRect) -> Image {
        if rect == PixelRect(x: 0, y: 0, width: width, height: height) { return self }
        var output = [UInt8](repeating: 0, count: rect.width * rect.height * 3)
        let rowBytes = rect.width * 3
        for row in 0..<rect.height {
            let from = ((rect.y + row) * width + rect.x) * 3
            output.replaceSubrange(row * rowBytes..<(row + 1) * rowBytes, with: pixels[from..<from + rowBytes])
        }
        return Image(width: rect.width, height: rect.height, pixels: output)
    }

    /// A `width × height` black canvas with this image pasted at (x, y).
    func placed(onCanvasWidth canvasWidth: Int, height canvasHeight: Int, x: Int, y: Int) -> Image {
        if canvasWidth == width && canvasHeight == height { return self }
        var canvas = Image(width: canvasWidth, height: canvasHeight)
        let rowBytes = width * 3
        for row in 0..<height {
            let to = ((y + row) * canvasWidth + x) * 3
            canvas.pixels.replaceSubrange(to..<to + rowBytes, with: pixels[row * rowBytes..<(row + 1) * rowBytes])
        }
        return canvas
    }
}

extension LabelMap {
    /// The values inside `rect` (which must lie inside the map).
    public func cropped(to rect: PixelRect) -> LabelMap {
        if rect == PixelRect(x: 0, y: 0, width: width, height: height) { return self }
        var output = [UInt8](repeating: 0, count: rect.width * rect.height)
        for row in 0..<rect.height {
            let from = (rect.y + row) * width + rect.x
            output.replaceSubrange(row * rect.width..<(row + 1) * rect.width, with: values[from..<from + rect.width])
        }
        return LabelMap(width: rect.width, height: rect.height, values: output)
    }

    /// A `width × height` canvas of `fill` with this map pasted at (x, y).
    func placed(onCanvasWidth canvasWidth: Int, height canvasHeight: Int, x: Int, y: Int, fill: UInt8) -> LabelMap {
        if canvasWidth == width && canvasHeight == height { return self }
        var canvas = LabelMap(width: canvasWidth, height: canvasHeight, filledWith: fill)
        for row in 0..<height {
            let to = (y + row) * canvasWidth + x
            canvas.values.replaceSubrange(to..<to + width, with: values[row * width..<(row + 1) * width])
        }
        return canvas
    }
}

/// Per-thread reusable state of the resize stage: a `PhotoResizer` keeps its weights and
/// buffers for one source size, and DeepFashion photos all share one size (750×1101).
/// Not thread-safe: one per worker thread.
public final class ResizeScratch {
    fileprivate var photoResizer: PhotoResizer?
    public init() {}

    fileprivate func resizer(fromWidth sourceWidth: Int, _ sourceHeight: Int, to width: Int, _ height: Int,
                             filter: ResizeFilter) -> PhotoResizer {
        if let resizer = photoResizer, resizer.sourceWidth == sourceWidth, resizer.sourceHeight == sourceHeight,
            resizer.width == width, resizer.height == height, resizer.filter == filter {
            return resizer
        }
        let resizer = PhotoResizer(
            fromWidth: sourceWidth, fromHeight: sourceHeight, toWidth: width, toHeight: height, filter: filter)
        photoResizer = resizer
        return resizer
    }
}

/// The resize stage: photo and label map to the training size under one fit, the photo with
/// the configured filter, the label map always by nearest neighbour (ids never blend).
/// Padding is black in the photo and `padLabel` (the background class) in the label map.
/// A sample already at the size is returned unchanged.
public struct SampleResize: Sendable {
    public let settings: ResizeSettings
    /// Target id written where `pad` adds border.
    public let padLabel: UInt8

    public init(settings: ResizeSettings, padLabel: UInt8) {
        self.settings = settings
        self.padLabel = padLabel
    }

    /// - Parameters:
    ///   - remap: applied to the label map while it is scaled, before padding (the remap
    ///     stage: nearest-neighbour scaling commutes with a lookup table, and the scaled map is
    ///     12× smaller at DeepFashion's size), so the padding value is already a target id.
    ///   - scratch: reusable buffers of the calling thread, or nil.
    public func apply(photo: Image, label: LabelMap, remap: LabelRemap? = nil,
                      scratch: ResizeScratch? = nil) -> (photo: Image, label: LabelMap) {
        do { return try apply(photo: PhotoInput(photo), label: label, remap: remap, scratch: scratch) } catch {
            preconditionFailure("a decoded photo cannot fail to decode: \(error)")
        }
    }

    /// `apply` on a photo decoded here: when the whole photo is scaled to the whole output and
    /// `scratch` is given, decoded straight to the output size (for a JPEG in one pass over its
    /// rows); otherwise decoded whole first. Throws the photo's decoding error.
    public func apply(photo: PhotoInput, label: LabelMap, remap: LabelRemap? = nil,
                      scratch: ResizeScratch? = nil) throws -> (photo: Image, label: LabelMap) {
        let geometry = FitGeometry(
            sourceWidth: photo.width, sourceHeight: photo.height,
            width: settings.size.width, height: settings.size.height, fit: settings.fit)
        let place = geometry.placement
        let whole = PixelRect(x: 0, y: 0, width: photo.width, height: photo.height)
        let sizeChanges = whole.width != place.width || whole.height != place.height
        if let scratch, sizeChanges, geometry.sourceCrop == whole,
            place == PixelRect(x: 0, y: 0, width: settings.size.width, height: settings.size.height) {
            let resizer = scratch.resizer(
                fromWidth: photo.width, photo.height, to: place.width, place.height, filter: filter)
            return (try photo.decoded(resizedBy: resizer), scaled(label, to: place, remap: remap))
        }
        var outPhoto = try photo.decoded().cropped(to: geometry.sourceCrop)
        var outLabel = label.cropped(to: geometry.sourceCrop)
        if outPhoto.width != place.width || outPhoto.height != place.height {
            if let scratch {
                let resizer = scratch.resizer(
                    fromWidth: outPhoto.width, outPhoto.height, to: place.width, place.height, filter: filter)
                outPhoto = resizer.resize(outPhoto)
            } else {
                outPhoto = outPhoto.resized(width: place.width, height: place.height, filter: filter)
            }
        }
        outLabel = scaled(outLabel, to: place, remap: remap)
        let (width, height) = (settings.size.width, settings.size.height)
        return (
            outPhoto.placed(onCanvasWidth: width, height: height, x: place.x, y: place.y),
            outLabel.placed(onCanvasWidth: width, height: height, x: place.x, y: place.y, fill: padLabel)
        )
    }

    /// An instance map (the photo's size) through the same fit as its label map: cropped, scaled
    /// by nearest neighbour, and padded with id 0.
    public func apply(instances: InstanceMap) -> InstanceMap {
        let geometry = FitGeometry(
            sourceWidth: instances.width, sourceHeight: instances.height,
            width: settings.size.width, height: settings.size.height, fit: settings.fit)
        let crop = geometry.sourceCrop, place = geometry.placement
        let scaled = instances.cropped(x: crop.x, y: crop.y, width: crop.width, height: crop.height)
            .resized(width: place.width, height: place.height)
        if place.width == settings.size.width && place.height == settings.size.height { return scaled }
        var canvas = InstanceMap(width: settings.size.width, height: settings.size.height)
        for row in 0..<place.height {
            let to = (place.y + row) * canvas.width + place.x
            canvas.values.replaceSubrange(
                to..<to + place.width, with: scaled.values[row * place.width..<(row + 1) * place.width])
        }
        return canvas
    }

    /// The label map at the placement's size, by nearest neighbour, remapped in the same pass.
    private func scaled(_ label: LabelMap, to place: PixelRect, remap: LabelRemap?) -> LabelMap {
        guard let remap else { return label.resized(width: place.width, height: place.height) }
        return label.resized(width: place.width, height: place.height, relabeling: remap.table)
    }

    private var filter: ResizeFilter {
        switch settings.photoFilter {
        case .nearest: return .nearest
        case .bilinear: return .bilinear
        case .bicubic: return .bicubic
        }
    }
}
