/// How the tables and the report stay readable when a data set has many classes (Cityscapes'
/// 35, ADE20K's 151): a 151 × 151 co-occurrence grid or 151 bars of which most are empty helps
/// no reader. Up to `compactClassCount` classes (every human-parsing set: DeepFashion's 8, LIP's
/// 20) everything is shown as it always was.
extension DatasetStatistics {
    /// Above this many classes, the views below replace the full grids and lists.
    public static let compactClassCount = 24
    /// Pairs listed in place of the co-occurrence grid.
    public static let listedPairCount = 20

    /// Whether this set has more classes than the full views can show.
    public var hasManyClasses: Bool { classes.count > Self.compactClassCount }

    /// The positions in `classes` of the classes shown: all of them, or with many classes those
    /// present in at least one sample.
    public var shownClassIndices: [Int] {
        hasManyClasses ? classes.indices.filter { classes[$0].images > 0 } : Array(classes.indices)
    }

    /// The classes present in no sample, when they are left out of the views (else empty).
    public var absentClasses: [ClassStatistics] { hasManyClasses ? classes.filter { $0.images == 0 } : [] }

    /// The pairs of distinct classes found together in the most samples, most first (ties by
    /// class order), at most `limit`, none with a count of 0.
    public func mostFrequentPairs(limit: Int = listedPairCount) -> [(first: Int, second: Int, images: Int)] {
        var pairs: [(first: Int, second: Int, images: Int)] = []
        for row in classes.indices {
            for column in classes.indices where column > row && cooccurrence[row][column] > 0 {
                pairs.append((row, column, cooccurrence[row][column]))
            }
        }
        pairs.sort { $0.images != $1.images ? $0.images > $1.images : ($0.first, $0.second) < ($1.first, $1.second) }
        return Array(pairs.prefix(limit))
    }

    /// With many classes, the positions of the `compactClassCount` classes present in the most
    /// samples (in class order): the classes of the report's co-occurrence grid.
    public var gridClassIndices: [Int] {
        guard hasManyClasses else { return Array(classes.indices) }
        let ranked = classes.indices.filter { classes[$0].images > 0 }
            .sorted { classes[$0].images != classes[$1].images ? classes[$0].images > classes[$1].images : $0 < $1 }
        return ranked.prefix(Self.compactClassCount).sorted()
    }

    /// "N classes absent from every sample: a, b, …" (the first `limit` names), or nil.
    func absentClassesLine(limit: Int = 40) -> String? {
        let absent = absentClasses
        guard !absent.isEmpty else { return nil }
        let names = absent.prefix(limit).map { "\($0.id) \($0.name)" }.joined(separator: ", ")
        let more = absent.count > limit ? ", … \(absent.count - limit) more" : ""
        return "\(absent.count) of the \(classes.count) classes are absent from every sample: \(names)\(more)"
    }
}
