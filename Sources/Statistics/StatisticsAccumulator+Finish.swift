extension StatisticsAccumulator {
    /// The statistics of every sample added so far. Does not change the accumulator, so it can
    /// be called for a progress report and accumulation can continue.
    public func finish() -> DatasetStatistics {
        let sorted = regions.map { $0.sorted() }
        let labelPixelCount = sorted.reduce(0) { total, list in total + list.reduce(0) { $0 + Int($1.area) } }
        let ids = classTable.ids
        let classes = ids.map { classStatistics(id: $0, samples: sorted[$0], labelPixelCount: labelPixelCount) }
        let cooccurrenceTable = ids.map { a in ids.map { b in cooccurrence[a * 256 + b] } }
        let outside = (0..<256).filter { classTable.names[$0] == nil && !sorted[$0].isEmpty }.map { v in
            OutsideValue(value: v, images: sorted[v].count, pixels: sorted[v].reduce(0) { $0 + Int($1.area) })
        }
        return DatasetStatistics(
            labelSet: classTable.kind, sampleCount: sampleCount, partitions: partitions,
            photoSizes: Self.sizeCounts(photoSizes), labelSizes: Self.sizeCounts(labelSizes),
            samplesWithoutPhoto: samplesWithoutPhoto, photoLabelSizeMismatches: sizeMismatches,
            labelPixelCount: labelPixelCount, classes: classes, cooccurrence: cooccurrenceTable,
            filterCandidates: classTable.kind == .source ? filterCandidates(ids: ids, sorted: sorted) : nil,
            channels: channelStatistics(), duplicates: duplicateStatistics(), valuesOutsideTable: outside)
    }

    private func classStatistics(id: Int, samples: [RegionSample], labelPixelCount: Int) -> ClassStatistics {
        let pixels = samples.reduce(0) { $0 + Int($1.area) }
        let images = samples.count
        let fractions = samples.map(\.areaFraction).sorted()
        return ClassStatistics(
            id: id, name: classTable.names[id] ?? "",
            pixels: pixels,
            pixelShare: labelPixelCount > 0 ? Double(pixels) / Double(labelPixelCount) : 0,
            images: images,
            imageShare: sampleCount > 0 ? Double(images) / Double(sampleCount) : 0,
            meanArea: images > 0 ? Double(pixels) / Double(images) : 0,
            medianArea: Self.median(ofSorted: samples.map { Double($0.area) }),
            meanAreaFraction: images > 0 ? fractions.reduce(0, +) / Double(images) : 0,
            medianAreaFraction: Self.median(ofSorted: fractions),
            boundingBoxWidths: histogram(samples.map { ($0.boxWidth, $0.imageWidth) }),
            boundingBoxHeights: histogram(samples.map { ($0.boxHeight, $0.imageHeight) }))
    }

    /// Bins `part / whole` fractions; the integer bin index `part * n / whole` is exact.
    private func histogram(_ pairs: [(part: UInt32, whole: UInt32)]) -> FractionHistogram {
        var counts = [Int](repeating: 0, count: boundingBoxBinCount)
        var total = 0.0
        for (part, whole) in pairs {
            let bin = min(boundingBoxBinCount - 1, Int(part) * boundingBoxBinCount / Int(whole))
            counts[bin] += 1
            total += Double(part) / Double(whole)
        }
        return FractionHistogram(counts: counts, mean: pairs.isEmpty ? 0 : total / Double(pairs.count))
    }

    private func filterCandidates(ids: [Int], sorted: [[RegionSample]]) -> FilterCandidates {
        let candidates = ids.map { id in
            let samples = sorted[id]
            return FilterCandidate(
                id: id, name: classTable.names[id] ?? "",
                dropsAbovePixels: filterThresholds.pixels.map { t in samples.count(where: { Int($0.area) > t }) },
                dropsAboveFraction: filterThresholds.fractions.map { f in samples.count(where: { $0.areaFraction > f }) })
        }
        return FilterCandidates(
            pixelThresholds: filterThresholds.pixels, fractionThresholds: filterThresholds.fractions,
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

    private func duplicateStatistics() -> DuplicateStatistics {
        let groups = photoKeysByHash.filter { $0.value.count > 1 }
            .map { DuplicateGroup(hash: Self.hex($0.key), keys: $0.value.sorted()) }
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

    private static func sizeCounts(_ counts: [PixelSize: Int]) -> [SizeCount] {
        counts.map { SizeCount(width: $0.key.width, height: $0.key.height, count: $0.value) }
            .sorted { ($1.count, $0.width, $0.height) < ($0.count, $1.width, $1.height) }
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
