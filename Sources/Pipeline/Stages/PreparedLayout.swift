/// File names of the prepared data set, the layout the PyTorch reference and the shard writer
/// read:
///
/// ```
/// OUT/train/<stem>.jpg            OUT/cihp_train_mask/<stem>.png
/// OUT/test/<stem>.jpg             OUT/cihp_test_mask/<stem>.png
/// OUT/train_instance/<stem>.png   OUT/test_instance/<stem>.png   (data sets with instance maps)
/// OUT/split/<stem>/<id>-<class>.png   (only with --write-split)
/// OUT/report.json  OUT/summary.txt  OUT/pipeline.yaml  OUT/classes.json
/// ```
public enum PreparedLayout {
    /// `WOMEN/Dresses/id_00000002/02_1_front` → `WOMEN-Dresses-id_00000002-02_1_front`: the
    /// reference reads flat folders, and the item id stays visible in the name.
    /// With `droppingSplitFolder`, the first folder (a data set's own split folder, such as
    /// Cityscapes' `train/`) is left out too: the prepared layout's folders already say the side
    /// (`train/aachen/aachen_000000_000019` → `aachen-aachen_000000_000019`).
    public static func flatStem(_ stem: String, droppingSplitFolder: Bool = false) -> String {
        var parts = stem.split(separator: "/", omittingEmptySubsequences: true)
        if droppingSplitFolder && parts.count > 1 { parts.removeFirst() }
        if parts.first == "img" && parts.count > 1 { parts.removeFirst() }
        return parts.joined(separator: "-")
    }

    public static func photoPath(flatStem: String, split: DataSplit) -> String {
        "\(split.photoFolder)/\(flatStem).jpg"
    }

    public static func labelPath(flatStem: String, split: DataSplit) -> String {
        "\(split.labelFolder)/\(flatStem).png"
    }

    /// The 16-bit instance map of a data set that has them (Cityscapes).
    public static func instancePath(flatStem: String, split: DataSplit) -> String {
        "\(split.instanceFolder)/\(flatStem).png"
    }

    public static func splitPartPath(flatStem: String, classID: Int, className: String) -> String {
        "split/\(flatStem)/\(classID)-\(className).png"
    }

    public static let report = "report.json"
    public static let summary = "summary.txt"
    public static let pipeline = "pipeline.yaml"
    public static let classes = "classes.json"
    /// Journals and the configuration fingerprint used for resuming.
    public static let stateFolder = ".smisprep"
}
