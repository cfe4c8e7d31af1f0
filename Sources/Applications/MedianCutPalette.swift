import ImageIO

/// At most 256 colours for a set of images, chosen by median cut (Heckbert 1982): start from
/// one box around every distinct colour, and split the box whose longest side times its pixel
/// count is largest at the pixel-weighted median of that side, until there are enough boxes;
/// each box gives the pixel-weighted mean of its colours. Images with no more distinct
/// colours than the palette holds keep them exactly.
public struct MedianCutPalette: Equatable, Sendable {
    /// r, g, b of each colour, one after another.
    public private(set) var rgb: [UInt8]

    public var count: Int { rgb.count / 3 }

    /// The palette of every pixel of `images`, with at most `maximumColours` (1…256) colours.
    public init(images: [Image], maximumColours: Int = 256) {
        precondition((1...256).contains(maximumColours), "a GIF palette holds 1…256 colours")
        var colours = Self.distinctColours(images)
        var boxes = colours.isEmpty ? [] : [Box(0..<colours.count, colours)]
        while boxes.count < maximumColours,
            let widest = boxes.indices.max(by: { boxes[$0].score < boxes[$1].score }), boxes[widest].score > 0
        {
            let (lower, upper) = Self.split(boxes[widest].range, along: boxes[widest].channel, of: &colours)
            boxes[widest] = Box(lower, colours)
            boxes.append(Box(upper, colours))
        }
        rgb = boxes.flatMap { Self.mean(of: colours[$0.range]) }
        if rgb.isEmpty { rgb = [0, 0, 0] }
    }

    /// Each pixel of `image` as the index of its nearest palette colour (squared distance in
    /// RGB; the first of equally near colours).
    public func indices(of image: Image) -> [UInt8] {
        var nearest: [UInt32: UInt8] = [:]
        var indices = [UInt8](repeating: 0, count: image.pixelCount)
        for pixel in 0..<image.pixelCount {
            let r = image.pixels[pixel * 3], g = image.pixels[pixel * 3 + 1], b = image.pixels[pixel * 3 + 2]
            let key = UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b)
            if let index = nearest[key] {
                indices[pixel] = index
                continue
            }
            let index = nearestIndex(r: Int(r), g: Int(g), b: Int(b))
            nearest[key] = index
            indices[pixel] = index
        }
        return indices
    }

    private func nearestIndex(r: Int, g: Int, b: Int) -> UInt8 {
        var best = 0, bestDistance = Int.max
        for index in 0..<count {
            let dr = Int(rgb[index * 3]) - r, dg = Int(rgb[index * 3 + 1]) - g, db = Int(rgb[index * 3 + 2]) - b
            let distance = dr * dr + dg * dg + db * db
            if distance < bestDistance { (best, bestDistance) = (index, distance) }
        }
        return UInt8(best)
    }

    /// One distinct colour and how many pixels have it.
    struct WeightedColour {
        var channels: (UInt8, UInt8, UInt8)
        var count: Int

        func value(_ channel: Int) -> UInt8 {
            channel == 0 ? channels.0 : channel == 1 ? channels.1 : channels.2
        }
    }

    /// Every distinct colour of `images` with its pixel count (sorting packed colours keeps
    /// this to one array, whatever the images hold).
    static func distinctColours(_ images: [Image]) -> [WeightedColour] {
        var packed: [UInt32] = []
        packed.reserveCapacity(images.reduce(0) { $0 + $1.pixelCount })
        for image in images {
            for pixel in 0..<image.pixelCount {
                let offset = pixel * 3
                packed.append(
                    UInt32(image.pixels[offset]) << 16 | UInt32(image.pixels[offset + 1]) << 8
                        | UInt32(image.pixels[offset + 2]))
            }
        }
        packed.sort()
        var colours: [WeightedColour] = []
        var start = 0
        while start < packed.count {
            var end = start + 1
            while end < packed.count && packed[end] == packed[start] { end += 1 }
            let value = packed[start]
            colours.append(
                WeightedColour(
                    channels: (UInt8(value >> 16), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)), count: end - start))
            start = end
        }
        return colours
    }

    /// A run of colours (sorted along some channel) and how much splitting it would gain: its
    /// longest side times its pixel count, 0 for a single colour, which cannot be split.
    struct Box {
        var range: Range<Int>
        var channel = 0
        var score = 0

        init(_ range: Range<Int>, _ colours: [WeightedColour]) {
            self.range = range
            guard range.count > 1 else { return }
            let population = colours[range].reduce(0) { $0 + $1.count }
            for channel in 0..<3 {
                var low = UInt8.max, high = UInt8.min
                for colour in colours[range] {
                    low = min(low, colour.value(channel))
                    high = max(high, colour.value(channel))
                }
                let score = Int(high - low) * population
                if score > self.score { (self.channel, self.score) = (channel, score) }
            }
        }
    }

    /// Sorts the box along `channel` and cuts it where the pixel count reaches half; both
    /// halves keep at least one colour.
    static func split(
        _ box: Range<Int>, along channel: Int, of colours: inout [WeightedColour]
    )
        -> (Range<Int>, Range<Int>)
    {
        colours[box].sort { $0.value(channel) < $1.value(channel) }
        let half = colours[box].reduce(0) { $0 + $1.count } / 2
        var cut = box.lowerBound + 1, seen = colours[box.lowerBound].count
        while cut < box.upperBound - 1 && seen + colours[cut].count <= half {
            seen += colours[cut].count
            cut += 1
        }
        return (box.lowerBound..<cut, cut..<box.upperBound)
    }

    /// The pixel-weighted mean colour, rounded.
    static func mean(of colours: ArraySlice<WeightedColour>) -> [UInt8] {
        let total = colours.reduce(0) { $0 + $1.count }
        return (0..<3).map { channel in
            let sum = colours.reduce(0) { $0 + Int($1.value(channel)) * $1.count }
            return UInt8((sum + total / 2) / total)
        }
    }
}
