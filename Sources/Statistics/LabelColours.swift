import ImageIO

/// The label colours of the statistics report, for pictures of label maps made elsewhere (the
/// training page and TensorBoard images), so that a class has one colour everywhere.
public enum LabelColours {
    /// `label` as an RGB image of its own size, each id in the colour the report gives it in
    /// `labelSet` (an id outside the set gets its palette colour all the same).
    public static func image(of label: LabelMap, labelSet table: LabelSet) -> Image {
        Thumbnail.colourised(label, palette: LabelPalette.colours(for: table), maxSide: max(label.width, label.height))
    }

    /// The colour of `id` in `table`, as the report's charts and maps draw it.
    public static func colour(of id: Int, in table: LabelSet) -> RGBColor {
        let colour = LabelPalette.colour(of: id, in: table)
        return RGBColor(colour.red, colour.green, colour.blue)
    }
}
