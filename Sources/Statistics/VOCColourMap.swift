import ImageIO

/// The PASCAL VOC colour map: colour `index` spreads the bits of `index` over the high bits of
/// red, green and blue in turn (bit k of its three low bit planes sets bit 7−k). LIP and CIHP
/// parsers write their palette PNGs with it, so colourised label maps, report charts and
/// `smisprep synth`'s label maps all use it.
public enum VOCColourMap {
    public static func colour(_ index: Int) -> RGBColor {
        var red = 0, green = 0, blue = 0, bits = index
        for bit in 0..<8 {
            red |= (bits & 1) << (7 - bit)
            green |= ((bits >> 1) & 1) << (7 - bit)
            blue |= ((bits >> 2) & 1) << (7 - bit)
            bits >>= 3
        }
        return RGBColor(UInt8(red), UInt8(green), UInt8(blue))
    }
}
