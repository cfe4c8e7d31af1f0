import SeededRandom
import Dispatch
import ImageIO
import XCTest
import _TestSupport

@testable import Statistics

final class SharedStatisticsAccumulatorTests: XCTestCase {
    /// Many threads adding at once give exactly what one accumulator gives sequentially.
    func testConcurrentAddsEqualSequentialAdds() {
        var generator = SplitMix64(seed: 5)
        var samples: [(LabelMap, Image, String)] = []
        for index in 0..<200 {
            let width = 4 + Int(generator.next() % 12), height = 4 + Int(generator.next() % 12)
            let values = (0..<(width * height)).map { _ in UInt8(generator.next() % 4) }
            let pixels = (0..<(width * height * 3)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            samples.append((
                LabelMap(width: width, height: height, values: values),
                Image(width: width, height: height, pixels: pixels),
                index % 5 == 0 ? "val" : "train"))
        }
        let names = ["a", "b", "c", "d"]
        var sequential = StatisticsAccumulator(classNames: names)
        for (index, (label, photo, partition)) in samples.enumerated() {
            sequential.add(label: label, photo: photo, partition: partition, key: "k\(index)")
        }
        let shared = SharedStatisticsAccumulator(StatisticsAccumulator(classNames: names), stripes: 3)
        DispatchQueue.concurrentPerform(iterations: samples.count) { index in
            let (label, photo, partition) = samples[index]
            shared.add(label: label, photo: photo, partition: partition, key: "k\(index)")
        }
        XCTAssertEqual(shared.finish(), sequential.finish())
        XCTAssertEqual(shared.finish().sampleCount, 200)
    }
}
