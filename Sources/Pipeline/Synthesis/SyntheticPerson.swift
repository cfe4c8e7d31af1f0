import SeededRandom
import ImageIO
import Statistics

/// A drawn stand-in for a DeepFashion sample: a LIP label map of a plausible person and a
/// textured photo that matches it pixel for pixel, with a DeepFashion-style relative path.
///
/// Made for fixtures and benchmarks: the label maps hold what a LIP parser writes (hair, face,
/// arms, legs, upper clothes or a dress or a coat, pants or a skirt, socks, shoes and sometimes
/// a hat, gloves, sunglasses or a scarf), so every stage has real work. Deterministic: the same
/// seed and index give the same bytes on every machine.
public struct SyntheticPerson: Sendable {
    /// LIP ids as the parser writes them (see Pipelines/sources/lip.yaml).
    enum LIP {
        static let background: UInt8 = 0, hat: UInt8 = 1, hair: UInt8 = 2, glove: UInt8 = 3
        static let sunglasses: UInt8 = 4, upperClothes: UInt8 = 5, dress: UInt8 = 6, coat: UInt8 = 7
        static let socks: UInt8 = 8, pants: UInt8 = 9, scarf: UInt8 = 11, skirt: UInt8 = 12
        static let face: UInt8 = 13, leftArm: UInt8 = 14, rightArm: UInt8 = 15
        static let leftLeg: UInt8 = 16, rightLeg: UInt8 = 17, leftShoe: UInt8 = 18, rightShoe: UInt8 = 19
    }

    /// DeepFashion-style path without extension, e.g. `WOMEN/Dresses/id_00000003/02_2_side`.
    public let relativeStem: String
    /// The item folder, e.g. `id_00000003`.
    public let itemID: String
    public let label: LabelMap
    public let photo: Image
    /// The optional extras drawn: any of hat, glove, sunglasses, scarf.
    public let extras: [String]

    /// DeepFashion's photo size.
    public static let width = 750, height = 1101
    /// DeepFashion's photo size.
    public static let size = Size(width: width, height: height)

    private static let views = ["1_front", "2_side", "3_back", "4_full", "5_additional"]
    private static let categories = [
        "WOMEN": ["Dresses", "Blouses_Shirts", "Skirts", "Pants", "Jackets_Coats", "Tees_Tanks"],
        "MEN": ["Denim", "Shirts_Polos", "Pants", "Jackets_Vests", "Sweaters", "Tees_Tanks"],
    ]

    /// The `index`-th person of the set made with `seed`. Items hold 1 to 4 views; a view of
    /// an item shares its clothes and colours. `width`/`height` default to DeepFashion's.
    public init(seed: UInt64, index: Int, width: Int = SyntheticPerson.width, height: Int = SyntheticPerson.height) {
        // Items: index / 3 groups views; the item's own generator fixes clothes and colours.
        let item = index / 3, view = index % 3
        var itemRandom = SplitMix64(seed: murmurFinalize(murmurFinalize(seed) ^ UInt64(item)))
        var viewRandom = SplitMix64(seed: murmurFinalize(murmurFinalize(seed ^ 0xD1B5_4A32_D192_ED03) ^ UInt64(index)))
        let gender = itemRandom.chance(0.6) ? "WOMEN" : "MEN"
        let category = Self.categories[gender]![itemRandom.index(Self.categories[gender]!.count)]
        itemID = String(format: "id_%08d", item + 1)
        let viewName = Self.views[view == 0 ? 0 : (view == 1 ? 1 + viewRandom.index(2) : 3 + viewRandom.index(2))]
        relativeStem = "\(gender)/\(category)/\(itemID)/\(String(format: "%02d", view + 1))_\(viewName)"

        var outfit = Outfit(random: &itemRandom, gender: gender, category: category)
        outfit.isBack = viewName.hasSuffix("back")
        outfit.isSide = viewName.hasSuffix("side")
        let drawing = Self.draw(outfit, random: &viewRandom, width: width, height: height)
        label = drawing
        photo = Self.paint(drawing, outfit: outfit, random: &viewRandom)
        extras = outfit.extras
    }

    // MARK: Outfit (what the item wears; shared by its views)

    struct Outfit {
        enum Top { case upper, dress, coat }
        enum Bottom { case pants, shorts, skirt }
        var top: Top
        var bottom: Bottom
        var longHair: Bool
        var hat: Bool, gloves: Bool, sunglasses: Bool, scarf: Bool, socks: Bool
        var isBack = false, isSide = false
        var colours: [UInt8: (Double, Double, Double)] = [:]
        var stripes: [UInt8: Double] = [:]

        init(random: inout SplitMix64, gender: String, category: String) {
            switch category {
            case "Dresses": top = .dress
            case "Jackets_Coats", "Jackets_Vests": top = .coat
            default: top = random.chance(0.15) ? .coat : .upper
            }
            switch category {
            case "Skirts": bottom = .skirt
            case "Pants", "Denim": bottom = .pants
            default: bottom = gender == "WOMEN" && random.chance(0.4) ? .skirt : (random.chance(0.2) ? .shorts : .pants)
            }
            longHair = gender == "WOMEN" ? random.chance(0.8) : random.chance(0.1)
            hat = random.chance(0.12)
            gloves = random.chance(0.1)
            sunglasses = random.chance(0.12)
            scarf = random.chance(0.1)
            socks = random.chance(0.35)
            let skins = [(0.96, 0.80, 0.69), (0.87, 0.67, 0.53), (0.63, 0.45, 0.33), (0.42, 0.29, 0.20)]
            let skin = skins[random.index(4)]
            let hairColours = [(0.10, 0.07, 0.05), (0.35, 0.22, 0.12), (0.75, 0.60, 0.35), (0.55, 0.20, 0.10)]
            let hairColour = hairColours[random.index(4)]
            for id in [LIP.face, LIP.leftArm, LIP.rightArm, LIP.leftLeg, LIP.rightLeg] { colours[id] = skin }
            colours[LIP.hair] = hairColour
            colours[LIP.background] = (0.93, 0.93, 0.92)
            colours[LIP.sunglasses] = (0.05, 0.05, 0.07)
            for id in [LIP.hat, LIP.glove, LIP.upperClothes, LIP.dress, LIP.coat, LIP.socks, LIP.pants, LIP.scarf,
                       LIP.skirt, LIP.leftShoe, LIP.rightShoe] {
                colours[id] = (random.uniform(0.05...0.95), random.uniform(0.05...0.95), random.uniform(0.05...0.95))
                stripes[id] = random.chance(0.3) ? random.uniform(8...30) : 0
            }
            colours[LIP.rightShoe] = colours[LIP.leftShoe]
        }

        var extras: [String] {
            [(hat, "hat"), (gloves, "glove"), (sunglasses, "sunglasses"), (scarf, "scarf")].filter(\.0).map(\.1)
        }
    }

    // MARK: Label map

    private static func draw(_ outfit: Outfit, random: inout SplitMix64, width: Int, height: Int) -> LabelMap {
        var canvas = LabelCanvas(width: width, height: height, fill: LIP.background)
        // Body frame in DeepFashion's 750×1101 coordinates, scaled to the canvas.
        let sx = Double(width) / 750, sy = Double(height) / 1101
        let cx = 375 + random.uniform(-40...40)
        let slim = outfit.isSide ? 0.7 : 1.0
        func p(_ x: Double, _ y: Double) -> (Double, Double) { ((cx + x * slim) * sx, y * sy) }
        func w(_ value: Double) -> Double { value * slim * sx }

        // Hair behind the head and, when long, down the back.
        canvas.ellipse(cx: p(0, 150).0, cy: p(0, 150).1, rx: w(70), ry: 78 * sy, value: LIP.hair)
        if outfit.longHair { canvas.polygon([p(-70, 150), p(70, 150), p(80, 380), p(-80, 380)], value: LIP.hair) }
        // Legs, then what covers them.
        let hip = 560.0, knee = 780.0, ankle = 1000.0
        canvas.limb(from: p(55, hip), to: p(60, ankle), widthA: w(80), widthB: w(45), value: LIP.leftLeg)
        canvas.limb(from: p(-55, hip), to: p(-60, ankle), widthA: w(80), widthB: w(45), value: LIP.rightLeg)
        if outfit.socks {
            canvas.limb(
                from: p(59, ankle - 50), to: p(60, ankle + 15), widthA: w(50), widthB: w(48), value: LIP.socks)
            canvas.limb(
                from: p(-59, ankle - 50), to: p(-60, ankle + 15), widthA: w(50), widthB: w(48), value: LIP.socks)
        }
        canvas.ellipse(cx: p(70, ankle + 35).0, cy: p(0, ankle + 35).1, rx: w(48), ry: 26 * sy, value: LIP.leftShoe)
        canvas.ellipse(cx: p(-70, ankle + 35).0, cy: p(0, ankle + 35).1, rx: w(48), ry: 26 * sy, value: LIP.rightShoe)
        switch outfit.bottom {
        case .pants, .shorts:
            let end = outfit.bottom == .pants ? ankle - 20 : knee - 60
            canvas.polygon(
                [p(-95, hip - 20), p(95, hip - 20), p(105, end), p(15, end), p(0, hip + 60), p(-15, end), p(-105, end)],
                value: LIP.pants)
        case .skirt:
            canvas.polygon([p(-90, hip - 20), p(90, hip - 20), p(140, knee), p(-140, knee)], value: LIP.skirt)
        }
        // Arms, then the torso over their tops.
        let handY = 590.0 + random.uniform(-30...30)
        canvas.limb(from: p(118, 280), to: p(150, handY), widthA: w(55), widthB: w(40), value: LIP.leftArm)
        canvas.limb(from: p(-118, 280), to: p(-150, handY), widthA: w(55), widthB: w(40), value: LIP.rightArm)
        let torso = [p(-120, 255), p(120, 255), p(92, hip), p(-92, hip)]
        switch outfit.top {
        case .upper:
            canvas.polygon(torso, value: LIP.upperClothes)
            canvas.limb(from: p(118, 270), to: p(130, 400), widthA: w(62), widthB: w(52), value: LIP.upperClothes)
            canvas.limb(from: p(-118, 270), to: p(-130, 400), widthA: w(62), widthB: w(52), value: LIP.upperClothes)
        case .dress:
            canvas.polygon(
                [p(-115, 255), p(115, 255), p(90, 500), p(150, knee + 20), p(-150, knee + 20), p(-90, 500)],
                value: LIP.dress)
        case .coat:
            canvas.polygon([p(-128, 250), p(128, 250), p(112, hip + 90), p(-112, hip + 90)], value: LIP.coat)
            canvas.limb(from: p(120, 265), to: p(148, handY - 45), widthA: w(66), widthB: w(50), value: LIP.coat)
            canvas.limb(from: p(-120, 265), to: p(-148, handY - 45), widthA: w(66), widthB: w(50), value: LIP.coat)
        }
        if outfit.gloves {
            canvas.ellipse(cx: p(151, 0).0, cy: (handY + 10) * sy, rx: w(26), ry: 34 * sy, value: LIP.glove)
            canvas.ellipse(cx: p(-151, 0).0, cy: (handY + 10) * sy, rx: w(26), ry: 34 * sy, value: LIP.glove)
        }
        // Neck and face (the parser labels the neck as face); the back view shows hair instead.
        canvas.polygon([p(-26, 200), p(26, 200), p(30, 262), p(-30, 262)], value: LIP.face)
        let head = outfit.isBack ? LIP.hair : LIP.face
        canvas.ellipse(cx: p(0, 165).0, cy: 165 * sy, rx: w(55), ry: 70 * sy, value: head)
        if !outfit.isBack {
            canvas.ellipse(cx: p(0, 110).0, cy: 110 * sy, rx: w(58), ry: 30 * sy, value: LIP.hair)
            if outfit.sunglasses {
                canvas.ellipse(cx: p(-24, 0).0, cy: 158 * sy, rx: w(20), ry: 12 * sy, value: LIP.sunglasses)
                canvas.ellipse(cx: p(24, 0).0, cy: 158 * sy, rx: w(20), ry: 12 * sy, value: LIP.sunglasses)
            }
        }
        if outfit.scarf { canvas.polygon([p(-60, 235), p(60, 235), p(55, 285), p(-55, 285)], value: LIP.scarf) }
        if outfit.hat {
            canvas.ellipse(cx: p(0, 95).0, cy: 95 * sy, rx: w(95), ry: 22 * sy, value: LIP.hat)
            canvas.polygon([p(-60, 95), p(60, 95), p(50, 45), p(-50, 45)], value: LIP.hat)
        }
        return canvas.label
    }

    // MARK: Photo

    /// Colours each pixel from its class: base colour, optional stripes, a soft vertical
    /// light falloff and a little noise, so JPEG and resize meet photo-like content.
    private static func paint(_ label: LabelMap, outfit: Outfit, random: inout SplitMix64) -> Image {
        var pixels = [UInt8](repeating: 0, count: label.pixelCount * 3)
        var colourTable = [(Double, Double, Double)](repeating: (0.5, 0.5, 0.5), count: 256)
        var stripeTable = [Double](repeating: 0, count: 256)
        for (id, colour) in outfit.colours { colourTable[Int(id)] = colour }
        for (id, period) in outfit.stripes { stripeTable[Int(id)] = period }
        var noise = random.next() | 1
        for y in 0..<label.height {
            let light = 1.0 - 0.12 * Double(y) / Double(label.height)
            for x in 0..<label.width {
                let id = Int(label.values[y * label.width + x])
                var (r, g, b) = colourTable[id]
                let period = stripeTable[id]
                if period > 0 && Int((Double(x + y) / period).rounded(.down)) % 2 == 0 {
                    (r, g, b) = (r * 0.7, g * 0.7, b * 0.7)
                }
                // xorshift noise: cheap, deterministic, ±3 levels.
                noise ^= noise << 13
                noise ^= noise >> 7
                noise ^= noise << 17
                let jitter = Double(Int(noise % 7) - 3) / 255
                let offset = (y * label.width + x) * 3
                pixels[offset] = UInt8(max(0, min(255, (r * light + jitter) * 255)))
                pixels[offset + 1] = UInt8(max(0, min(255, (g * light + jitter) * 255)))
                pixels[offset + 2] = UInt8(max(0, min(255, (b * light + jitter) * 255)))
            }
        }
        return Image(width: label.width, height: label.height, pixels: pixels)
    }

    /// The colours a LIP parser's palette PNG uses: the first `count` of the PASCAL VOC colour
    /// map (`VOCColourMap`).
    public static func lipPalette(count: Int = 20) -> [(UInt8, UInt8, UInt8)] {
        (0..<count).map { index in
            let colour = VOCColourMap.colour(index)
            return (colour.red, colour.green, colour.blue)
        }
    }
}
