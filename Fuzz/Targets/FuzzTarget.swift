import Foundation

/// One fuzzed entry point: a name (`scripts/fuzz NAME`), what it feeds the input to, and the
/// function that does it. A run must never crash, trap, leak or hang, whatever the bytes; an
/// input the code refuses with an error is a success. Where a round trip must hold (what is
/// parsed, written back and parsed again is the same), the target checks it and traps when it
/// does not, so the fuzzer reports it like a crash.
public struct FuzzTarget: Sendable {
    public let name: String
    public let summary: String
    public let run: @Sendable (UnsafeRawBufferPointer) -> Void

    public init(name: String, summary: String, run: @escaping @Sendable (UnsafeRawBufferPointer) -> Void) {
        self.name = name
        self.summary = summary
        self.run = run
    }

    /// Every target, in the order `scripts/fuzz --list` prints them.
    public static let all: [FuzzTarget] = [
        ImageTargets.png, ImageTargets.jpeg, ImageTargets.tiff, ImageTargets.label,
        RecordTargets.example, RecordTargets.tfrecord, RecordTargets.manifest,
        ModelTargets.state, PipelineTargets.pipeline, ModelTargets.safetensors
    ]

    /// The target called `name`, nil for none.
    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}

/// Traps with `message` when a property the fuzzer checks does not hold (a round trip that
/// changed its value): libFuzzer reports the trap with the input that caused it.
func expect(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("fuzz property violated: \(message())") }
}
