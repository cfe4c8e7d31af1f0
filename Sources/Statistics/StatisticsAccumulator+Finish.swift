extension StatisticsAccumulator {
    /// The statistics of every sample added so far. Does not change the accumulator, so it can
    /// be called for a progress report and accumulation can continue.
    public func finish() -> DatasetStatistics {
        let labelPixelCount = regions.reduce(0) { $0 + $1.pixels }
        let ids = labelSet.ids
        let classes = ids.map { classStatistics(id: $0, tally: regions[$0], labelPixelCount: labelPixelCount) }
        let cooccurrenceTable = ids.map { a in ids.map { b in cooccurrence[a * 256 + b] } }
        let outside = (0..<256).filter { !labelSet.contains($0) && !regions[$0].isEmpty }.map { v in
            OutsideValue(value: v, images: regions[v].images, pixels: regions[v].pixels)
        }
        return DatasetStatistics(
            labelSet: labelSet.kind, sampleCount: sampleCount, partitions: partitions,
            photoSizes: Self.sizeCounts(photoSizes), labelSizes: Self.sizeCounts(labelSizes),
            samplesWithoutPhoto: samplesWithoutPhoto, photoLabelSizeMismatches: sizeMismatches,
            labelPixelCount: labelPixelCount, classes: classes, cooccurrence: cooccurrenceTable,
            filterCandidates: labelSet.kind == .source ? filterCandidates(ids: ids) : nil,
            channels: channelStatistics(), duplicates: duplicateStatistics(), valuesOutsideTable: outside)
    }

    private func classStatistics(id: Int, tally: RegionTally, labelPixelCount: Int) -> ClassStatistics {
        let pixels = tally.pixels
        let images = tally.images
        let fractions = tally.sortedAreaFractions()
        return ClassStatistics(
            id: id, name: labelSet.name(of: id) ?? "",
            pixels: pixels,
            pixelShare: labelPixelCount > 0 ? Double(pixels) / Double(labelPixelCount) : 0,
            images: images,
            imageShare: sampleCount > 0 ? Double(images) / Double(sampleCount) : 0,
            meanArea: images > 0 ? Double(pixels) / Double(images) : 0,
            medianArea: Self.median(ofCounted: tally.sortedAreas()),
            meanAreaFraction: images > 0 ? Self.sum(ofCounted: fractions) / Double(images) : 0,
            medianAreaFraction: Self.median(ofCounted: fractions),
            boundingBoxWidths: histogram(tally.boxWidths),
            boundingBoxHeights: histogram(tally.boxHeights))
    }

    /// Bins `part / whole` fractions; the integer bin index `part * n / whole` is exact. The
    /// mean sums the fractions in ascending order, so it does not depend on the dictionary's
    /// per-process iteration order.
    private func histogram(_ extents: [Extent: Int]) -> FractionHistogram {
        var counts = [Int](repeating: 0, count: boundingBoxBinCount)
        var fractions: [Double: Int] = [:]
        for (extent, count) in extents {
            let bin = min(boundingBoxBinCount - 1, extent.part * boundingBoxBinCount / extent.whole)
            counts[bin] += count
            fractions[Double(extent.part) / Double(extent.whole), default: 0] += count
        }
        let ascending = fractions.map { CountedValue(value: $0.key, count: $0.value) }.sorted { $0.value < $1.value }
        let total = ascending.reduce(0) { $0 + $1.count }
        return FractionHistogram(counts: counts, mean: total == 0 ? 0 : Self.sum(ofCounted: ascending) / Double(total))
    }

    private func filterCandidates(ids: [Int]) -> FilterCandidates {
        let pixelThresholds = filterThresholds.compactMap(\.pixelCount)
        let fractionThresholds = filterThresholds.compactMap(\.fraction)
        let candidates = ids.map { id in
            let areas = regions[id].areas
            return FilterCandidate(
                id: id, name: labelSet.name(of: id) ?? "",
                dropsAbovePixels: pixelThresholds.map { t in
                    areas.reduce(0) { $0 + ($1.key.area > t ? $1.value : 0) }
                },
                dropsAboveFraction: fractionThresholds.map { f in
                    areas.reduce(0) { $0 + ($1.key.fraction > f ? $1.value : 0) }
                })
        }
        return FilterCandidates(
            pixelThresholds: pixelThresholds, fractionThresholds: fractionThresholds,
            classes: candidates)
    }

    /// Mean and population standard deviation from exact sums. Since Σx and Σx² are exact,
    /// the only roundings are in the last three operations: the variance
    /// `(Σx² − Σx·mean) / N` is off by at most a few ulps of 255², about 10⁻¹¹, however many
    /// pixels there are (a running Σx² in floating point would lose that many digits).
    private func channelStatistics() -> ChannelStatistics? {
        guard photoPixelCount > 0 else { return nil }
        let n = Double(photoPixelCount)
        var means: [Double] = [], deviations: [Double] = []
        for c in 0..<3 {
            let sum = channelSums[c].doubleValue
            let mean = sum / n
            let variance = max(0, (channelSquares[c].doubleValue - sum * mean) / n)
            means.append(mean)
            deviations.append(variance.squareRoot())
        }
        return ChannelStatistics(mean: means, standardDeviation: deviations, pixelCount: photoPixelCount)
    }

    /// Groups of photos with equal content hashes. Sorting a copy of the hashes finds the
    /// repeated ones; one more pass collects their keys.
    private func duplicateStatistics() -> DuplicateStatistics {
        let ascending = photoHashes.sorted()
        var repeated = Set<UInt64>()
        for i in ascending.indices.dropFirst() where ascending[i] == ascending[i - 1] { repeated.insert(ascending[i]) }
        var keysByHash: [UInt64: [String]] = [:]
        if !repeated.isEmpty {
            for (index, hash) in photoHashes.enumerated() where repeated.contains(hash) {
                keysByHash[hash, default: []].append(photoKeys[index])
            }
        }
        let groups = keysByHash.map { DuplicateGroup(hash: Self.hex($0.key), keys: $0.value.sorted()) }
            .sorted { ($0.keys[0], $0.hash) < ($1.keys[0], $1.hash) }
        return DuplicateStatistics(
            groupCount: groups.count, redundantPhotoCount: groups.reduce(0) { $0 + $1.keys.count - 1 }, groups: groups)
    }

    /// The middle value, or the mean of the two middle values; 0 for no values.
    static func median(ofSorted values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let middle = values.count / 2
        return values.count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2
    }

    /// The median of ascending values each repeated `count` times, as `median(ofSorted:)` of
    /// the list written out.
    static func median(ofCounted values: [CountedValue]) -> Double {
        let total = values.reduce(0) { $0 + $1.count }
        guard total > 0 else { return 0 }
        /// The value at 0-based position `position` of the written-out list.
        func value(at position: Int) -> Double {
            var seen = 0
            for entry in values {
                seen += entry.count
                if position < seen { return entry.value }
            }
            preconditionFailure("position \(position) is past the \(total) values")
        }
        return total % 2 == 1 ? value(at: total / 2) : (value(at: total / 2 - 1) + value(at: total / 2)) / 2
    }

    /// Σ value × count, added in the order given.
    static func sum(ofCounted values: [CountedValue]) -> Double {
        values.reduce(0) { $0 + $1.value * Double($1.count) }
    }

    private static func sizeCounts(_ counts: [PixelSize: Int]) -> [SizeCount] {
        counts.map { SizeCount(width: $0.key.width, height: $0.key.height, count: $0.value) }
            .sorted { ($1.count, $0.width, $0.height) < ($0.count, $1.width, $1.height) }
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
