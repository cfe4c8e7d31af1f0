import Foundation

/// The scalars a step reports, under the tags TensorBoard shows them with (`loss/G/total`,
/// `val/D/real`, `speed/data_wait_share`…); the page's curves use the same tags.
enum MonitorScalars {
    static func values(of metrics: StepMetrics) -> [(tag: String, value: Float)] {
        var values = losses(metrics.losses, prefix: "loss")
        values += [("learning_rate/G", metrics.generatorLearningRate),
                   ("learning_rate/D", metrics.discriminatorLearningRate),
                   ("speed/samples_per_second", Float(metrics.samplesPerSecond))]
        if let share = metrics.dataWaitShare { values.append(("speed/data_wait_share", Float(share))) }
        if let validation = metrics.validation { values += losses(validation.losses, prefix: "val") }
        return values
    }

    private static func losses(_ losses: StepLosses, prefix: String) -> [(tag: String, value: Float)] {
        let g = losses.generator, d = losses.discriminator
        var values = [("\(prefix)/G/total", g.total), ("\(prefix)/G/adversarial", g.adversarial),
                      ("\(prefix)/G/feature_matching", g.featureMatching), ("\(prefix)/G/kld", g.kullbackLeibler)]
        if let vgg = g.vgg { values.append(("\(prefix)/G/vgg", vgg)) }
        return values + [("\(prefix)/D/total", d.total), ("\(prefix)/D/fake", d.fake), ("\(prefix)/D/real", d.real)]
    }
}

/// One curve of the page, downsampled as it grows: points are the means of buckets of
/// consecutive values; when there are `maxPoints` (an even number), neighbouring buckets merge
/// in pairs and the bucket size doubles. Memory and drawing stay bounded however long the run
/// is, every point stands for as many values as every other, and every value counts.
struct CurveSeries: Equatable {
    static let maxPoints = 600
    private(set) var points: [CurvePoint] = []
    private var bucketSize = 1
    private var open = CurvePoint(step: 0, value: 0)
    private var openCount = 0

    mutating func add(step: Int, value: Float) {
        guard value.isFinite else { return }
        open.step += Double(step)
        open.value += Double(value)
        openCount += 1
        guard openCount == bucketSize else { return }
        points.append(CurvePoint(step: open.step / Double(bucketSize), value: open.value / Double(bucketSize)))
        (open, openCount) = (CurvePoint(step: 0, value: 0), 0)
        if points.count == Self.maxPoints {
            let pairs = stride(from: 0, to: points.count, by: 2).map { (points[$0], points[$0 + 1]) }
            points = pairs.map { CurvePoint(step: ($0.step + $1.step) / 2, value: ($0.value + $1.value) / 2) }
            bucketSize *= 2
        }
    }

    /// The points to draw: the closed buckets, then the one being filled.
    var plotted: [CurvePoint] {
        openCount == 0 ? points
            : points + [CurvePoint(step: open.step / Double(openCount), value: open.value / Double(openCount))]
    }
}

struct CurvePoint: Equatable {
    var step: Double
    var value: Double
}

/// Every scalar of the run so far, by tag, for the page's curves.
struct RunHistory {
    private(set) var series: [String: CurveSeries] = [:]

    mutating func add(_ metrics: StepMetrics) {
        for (tag, value) in MonitorScalars.values(of: metrics) {
            series[tag, default: CurveSeries()].add(step: metrics.step, value: value)
        }
    }

    /// The history of a resumed run: the lines of `metrics.jsonl` up to `step`. A step logged
    /// again (after a resume) replaces the earlier lines from that step on, as the resumed run
    /// replaced the interrupted one's steps. Lines that do not decode are passed over.
    static func load(metricsFile url: URL, upTo step: Int) -> RunHistory {
        var history = RunHistory()
        guard step > 0, let data = try? Data(contentsOf: url) else { return history }
        let decoder = JSONDecoder()
        var kept: [StepMetrics] = []
        for line in data.split(separator: 0x0A) {
            guard let metrics = try? decoder.decode(StepMetrics.self, from: line) else { continue }
            while let last = kept.last, last.step >= metrics.step { kept.removeLast() }
            kept.append(metrics)
        }
        for metrics in kept where metrics.step <= step { history.add(metrics) }
        return history
    }
}
