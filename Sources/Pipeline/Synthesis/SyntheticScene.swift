import ImageIO
import SeededRandom

/// A drawn stand-in for a Cityscapes or ADE20K sample: a label map of a plausible street or
/// room in the data set's own ids, the matching instance map (street scenes: Cityscapes'
/// convention, the label id for stuff and id × 1000 + n for the n-th car, person, bicycle or
/// rider), and a photo painted from them pixel for pixel. Deterministic: the same seed and
/// index give the same bytes on every machine.
public struct SyntheticScene: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        /// A Cityscapes street (labelIds 0...33, with instance ids).
        case street
        /// An ADE20K room (SceneParse150 ids 0...150, 0 = other; no instance map).
        case indoor
    }

    public let label: LabelMap
    /// Street scenes only.
    public let instances: InstanceMap?
    public let photo: Image

    /// The `index`-th scene of `kind` drawn with `seed`, at `width × height`.
    public init(kind: Kind, seed: UInt64, index: Int, width: Int, height: Int) {
        var random = SplitMix64(seed: murmurFinalize(murmurFinalize(seed ^ 0x5CE4_E5B9_0D1B_54A3) ^ UInt64(index)))
        var canvas = SceneCanvas(width: width, height: height, fill: kind == .street ? Street.sky : Room.wall)
        switch kind {
        case .street: Street.draw(on: &canvas, random: &random)
        case .indoor: Room.draw(on: &canvas, random: &random)
        }
        label = canvas.labels.label
        instances = kind == .street ? canvas.instanceMap(thingClasses: Street.things) : nil
        photo = ScenePainter.paint(label, things: canvas.things.label, random: &random, noise: kind == .indoor)
    }
}

/// A label map and, drawn with the same shapes in the same order, the number of the thing each
/// pixel shows (0 for stuff), so that occlusion is the same in both.
struct SceneCanvas {
    var labels: LabelCanvas
    var things: LabelCanvas
    private var thingCount = 0

    init(width: Int, height: Int, fill: UInt8) {
        labels = LabelCanvas(width: width, height: height, fill: fill)
        things = LabelCanvas(width: width, height: height, fill: 0)
    }

    /// The next thing's number (1, 2, …): pass it to the shapes of one object.
    mutating func newThing() -> UInt8 {
        thingCount = min(thingCount + 1, 255)
        return UInt8(thingCount)
    }

    mutating func polygon(_ points: [(Double, Double)], value: UInt8, thing: UInt8 = 0) {
        labels.polygon(points, value: value)
        things.polygon(points, value: thing)
    }

    mutating func ellipse(cx: Double, cy: Double, rx: Double, ry: Double, value: UInt8, thing: UInt8 = 0) {
        labels.ellipse(cx: cx, cy: cy, rx: rx, ry: ry, value: value)
        things.ellipse(cx: cx, cy: cy, rx: rx, ry: ry, value: thing)
    }

    mutating func rectangle(x: Double, y: Double, width: Double, height: Double, value: UInt8, thing: UInt8 = 0) {
        polygon([(x, y), (x + width, y), (x + width, y + height), (x, y + height)], value: value, thing: thing)
    }

    /// Cityscapes' instance ids: a thing class's pixels get class × 1000 + its number of that
    /// class (0, 1, …, counted in drawing order), every other pixel its class id.
    func instanceMap(thingClasses: Set<UInt8>) -> InstanceMap {
        var perClass: [UInt8: Int] = [:]
        var idOfThing = [UInt16](repeating: 0, count: 256)
        var values = [UInt16](repeating: 0, count: labels.label.pixelCount)
        for index in values.indices {
            let value = labels.label.values[index], thing = Int(things.label.values[index])
            guard thing > 0, thingClasses.contains(value) else {
                values[index] = UInt16(value)
                continue
            }
            if idOfThing[thing] == 0 {
                let number = perClass[value, default: 0]
                perClass[value] = number + 1
                idOfThing[thing] = UInt16(value) * 1000 + UInt16(number)
            }
            values[index] = idOfThing[thing]
        }
        return InstanceMap(width: labels.label.width, height: labels.label.height, values: values)
    }
}

/// A street seen from a car, in Cityscapes' label ids.
private enum Street {
    static let egoVehicle: UInt8 = 1, outOfROI: UInt8 = 3, road: UInt8 = 7, sidewalk: UInt8 = 8
    static let building: UInt8 = 11, fence: UInt8 = 13, pole: UInt8 = 17, trafficSign: UInt8 = 20
    static let vegetation: UInt8 = 21, terrain: UInt8 = 22, sky: UInt8 = 23, person: UInt8 = 24
    static let rider: UInt8 = 25, car: UInt8 = 26, bicycle: UInt8 = 33
    static let things: Set<UInt8> = [person, rider, car, bicycle]

    static func draw(on canvas: inout SceneCanvas, random: inout SplitMix64) {
        let width = Double(canvas.labels.label.width), height = Double(canvas.labels.label.height)
        let horizon = height * random.uniform(0.42...0.52)
        // Buildings along both sides, then trees in front of some of them.
        var x = -random.uniform(0...40) * width / 1024
        while x < width {
            let facade = width * random.uniform(0.08...0.2)
            let top = horizon - height * random.uniform(0.12...0.4)
            canvas.rectangle(x: x, y: top, width: facade, height: horizon - top + 2, value: building)
            x += facade
        }
        for _ in 0..<(2 + random.index(3)) {
            let cx = width * random.uniform(0...1), r = width * random.uniform(0.03...0.07)
            canvas.ellipse(cx: cx, cy: horizon - r * 1.6, rx: r, ry: r * 1.4, value: vegetation)
        }
        // Ground: terrain strips, sidewalks, the road narrowing to the horizon.
        canvas.rectangle(x: 0, y: horizon, width: width, height: height - horizon, value: terrain)
        let vanish = width * random.uniform(0.4...0.6)
        canvas.polygon([(0, horizon + 4), (width, horizon + 4), (width, height), (0, height)], value: sidewalk)
        canvas.polygon(
            [(vanish - 12, horizon), (vanish + 12, horizon), (width * 0.95, height), (width * 0.05, height)],
            value: road)
        canvas.rectangle(
            x: width * 0.8, y: horizon - height * 0.05, width: width * 0.2, height: height * 0.06,
            value: fence)
        // Poles with signs, then cars, people and a cyclist: each one an instance.
        for side in [0.12, 0.86] {
            let px = width * (side + random.uniform(-0.03...0.03))
            canvas.rectangle(x: px, y: horizon - height * 0.3, width: width * 0.006, height: height * 0.38, value: pole)
            canvas.rectangle(
                x: px - width * 0.012, y: horizon - height * 0.3, width: width * 0.03,
                height: height * 0.04, value: trafficSign)
        }
        for _ in 0..<(1 + random.index(3)) {
            let depth = random.uniform(0.15...0.9)
            let carWidth = width * (0.06 + 0.2 * depth), bottom = horizon + (height - horizon) * depth * 0.7
            let cx = vanish + (random.chance(0.5) ? -1 : 1) * (carWidth * 0.6 + width * 0.25 * depth)
            let thing = canvas.newThing()
            canvas.rectangle(
                x: cx - carWidth / 2, y: bottom - carWidth * 0.45, width: carWidth, height: carWidth * 0.45,
                value: car, thing: thing)
            canvas.rectangle(
                x: cx - carWidth * 0.35, y: bottom - carWidth * 0.7, width: carWidth * 0.7,
                height: carWidth * 0.26, value: car, thing: thing)
        }
        for _ in 0..<(1 + random.index(3)) {
            let px = width * random.uniform(0.05...0.3) + (random.chance(0.5) ? 0 : width * 0.65)
            let size = height * random.uniform(0.12...0.3), feet = horizon + size * 0.6
            let thing = canvas.newThing()
            canvas.ellipse(cx: px, cy: feet - size * 0.9, rx: size * 0.07, ry: size * 0.09, value: person, thing: thing)
            canvas.rectangle(
                x: px - size * 0.1, y: feet - size * 0.8, width: size * 0.2, height: size * 0.8,
                value: person, thing: thing)
        }
        if random.chance(0.6) {
            let px = width * random.uniform(0.3...0.7), size = height * 0.22, base = horizon + size * 0.7
            let bike = canvas.newThing(), cyclist = canvas.newThing()
            canvas.ellipse(
                cx: px - size * 0.25, cy: base - size * 0.12, rx: size * 0.12, ry: size * 0.12,
                value: bicycle, thing: bike)
            canvas.ellipse(
                cx: px + size * 0.25, cy: base - size * 0.12, rx: size * 0.12, ry: size * 0.12,
                value: bicycle, thing: bike)
            canvas.rectangle(
                x: px - size * 0.08, y: base - size * 0.85, width: size * 0.16, height: size * 0.6,
                value: rider, thing: cyclist)
        }
        // The car's own bonnet at the bottom and the camera's unrecorded corners.
        canvas.ellipse(cx: width / 2, cy: height * 1.08, rx: width * 0.55, ry: height * 0.12, value: egoVehicle)
        canvas.rectangle(x: 0, y: height - 3, width: width, height: 3, value: outOfROI)
    }
}

/// A room, in SceneParse150's ids (1-based; 0 = other).
private enum Room {
    static let other: UInt8 = 0, wall: UInt8 = 1, floor: UInt8 = 4, ceiling: UInt8 = 6, bed: UInt8 = 8
    static let windowpane: UInt8 = 9, cabinet: UInt8 = 11, door: UInt8 = 15, table: UInt8 = 16
    static let curtain: UInt8 = 19, chair: UInt8 = 20, painting: UInt8 = 23, rug: UInt8 = 29
    static let lamp: UInt8 = 37, cushion: UInt8 = 40, pillow: UInt8 = 58

    static func draw(on canvas: inout SceneCanvas, random: inout SplitMix64) {
        let width = Double(canvas.labels.label.width), height = Double(canvas.labels.label.height)
        let ceilingLine = height * random.uniform(0.08...0.18), floorLine = height * random.uniform(0.6...0.72)
        canvas.rectangle(x: 0, y: 0, width: width, height: ceilingLine, value: ceiling)
        canvas.rectangle(x: 0, y: floorLine, width: width, height: height - floorLine, value: floor)
        // On the wall: a window with curtains, a door, a painting.
        let windowX = width * random.uniform(0.05...0.35), windowWidth = width * 0.22
        canvas.rectangle(
            x: windowX, y: ceilingLine + height * 0.08, width: windowWidth, height: height * 0.3,
            value: windowpane)
        canvas.rectangle(
            x: windowX - width * 0.04, y: ceilingLine + height * 0.04, width: width * 0.05,
            height: height * 0.42, value: curtain)
        canvas.rectangle(
            x: windowX + windowWidth - width * 0.01, y: ceilingLine + height * 0.04, width: width * 0.05,
            height: height * 0.42, value: curtain)
        if random.chance(0.6) {
            canvas.rectangle(
                x: width * 0.8, y: floorLine - height * 0.45, width: width * 0.12, height: height * 0.45,
                value: door)
        }
        canvas.rectangle(
            x: width * random.uniform(0.45...0.6), y: ceilingLine + height * 0.1, width: width * 0.14,
            height: height * 0.12, value: painting)
        // Furniture: a bed or a table with chairs, a cabinet, a lamp, a rug.
        canvas.ellipse(
            cx: width * 0.5, cy: floorLine + (height - floorLine) * 0.6, rx: width * 0.3,
            ry: (height - floorLine) * 0.3, value: rug)
        if random.chance(0.5) {
            let left = width * random.uniform(0.1...0.35), top = floorLine - height * 0.12
            canvas.rectangle(x: left, y: top, width: width * 0.45, height: height * 0.22, value: bed)
            canvas.rectangle(
                x: left + width * 0.02, y: top - height * 0.05, width: width * 0.1, height: height * 0.06,
                value: pillow)
            canvas.rectangle(
                x: left + width * 0.14, y: top - height * 0.04, width: width * 0.08,
                height: height * 0.05, value: cushion)
        } else {
            let center = width * random.uniform(0.35...0.6), top = floorLine - height * 0.05
            canvas.rectangle(x: center - width * 0.15, y: top, width: width * 0.3, height: height * 0.04, value: table)
            canvas.rectangle(x: center - width * 0.14, y: top, width: width * 0.02, height: height * 0.18, value: table)
            canvas.rectangle(x: center + width * 0.12, y: top, width: width * 0.02, height: height * 0.18, value: table)
            for side in [-1.0, 1.0] {
                let cx = center + side * width * 0.2
                canvas.rectangle(
                    x: cx - width * 0.03, y: top - height * 0.12, width: width * 0.015,
                    height: height * 0.3, value: chair)
                canvas.rectangle(
                    x: cx - width * 0.03, y: top + height * 0.05, width: width * 0.07,
                    height: height * 0.03, value: chair)
            }
        }
        canvas.rectangle(
            x: width * 0.02, y: floorLine - height * 0.25, width: width * 0.12, height: height * 0.3,
            value: cabinet)
        canvas.rectangle(
            x: width * 0.06, y: floorLine - height * 0.33, width: width * 0.02, height: height * 0.08,
            value: lamp)
        canvas.ellipse(
            cx: width * 0.07, cy: floorLine - height * 0.34, rx: width * 0.035, ry: height * 0.03,
            value: lamp)
        // Something the annotators left unnamed.
        canvas.ellipse(
            cx: width * random.uniform(0.2...0.8), cy: height * 0.95, rx: width * 0.04, ry: height * 0.03,
            value: other)
    }
}

/// Colours a scene: each class its own colour, each thing a shade of it, a light falloff from
/// the top, a faint pattern, and for JPEG photos a little noise (PNG photos stay without, so
/// that the committed fixtures stay small).
private enum ScenePainter {
    static func paint(_ label: LabelMap, things: LabelMap, random: inout SplitMix64, noise addNoise: Bool) -> Image {
        var base = [(Double, Double, Double)](repeating: (0.5, 0.5, 0.5), count: 256)
        for value in 0..<256 {
            base[value] = (random.uniform(0.1...0.9), random.uniform(0.1...0.9), random.uniform(0.1...0.9))
        }
        var shade = [Double](repeating: 1, count: 256)
        for thing in 1..<256 { shade[thing] = random.uniform(0.7...1.15) }
        var pixels = [UInt8](repeating: 0, count: label.pixelCount * 3)
        var noise = random.next() | 1
        for y in 0..<label.height {
            let light = 1.0 - 0.15 * Double(y) / Double(max(1, label.height))
            for x in 0..<label.width {
                let index = y * label.width + x
                let value = Int(label.values[index]), factor = light * shade[Int(things.values[index])]
                let pattern = (x / 8 + y / 8) % 2 == 0 ? 1.0 : 0.94
                var jitter = 0.0
                if addNoise {
                    noise ^= noise << 13
                    noise ^= noise >> 7
                    noise ^= noise << 17
                    jitter = Double(Int(noise % 7) - 3) / 255
                }
                let (r, g, b) = base[value]
                pixels[index * 3] = byte(r * factor * pattern + jitter)
                pixels[index * 3 + 1] = byte(g * factor * pattern + jitter)
                pixels[index * 3 + 2] = byte(b * factor * pattern + jitter)
            }
        }
        return Image(width: label.width, height: label.height, pixels: pixels)
    }

    private static func byte(_ level: Double) -> UInt8 { UInt8(max(0, min(255, level * 255))) }
}
