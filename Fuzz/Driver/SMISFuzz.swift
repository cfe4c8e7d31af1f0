import Foundation
import FuzzTargets

// Built two ways. With `scripts/fuzz` (`--sanitize=fuzzer`, `-DSMIS_FUZZER`) libFuzzer owns
// `main` and calls `LLVMFuzzerTestOneInput` below with the target `SMIS_FUZZ_TARGET` names.
// In a normal build it replays files: `smis-fuzz TARGET FILE…` runs each file through the
// target (a crasher reproduces under a debugger, without the fuzzing build).

#if SMIS_FUZZER
/// The target, chosen once from the environment; libFuzzer exits before the first input when
/// it names none.
private let selected: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["SMIS_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget.named(name) else {
        let names = FuzzTarget.all.map(\.name).joined(separator: ", ")
        FileHandle.standardError.write(Data("SMIS_FUZZ_TARGET must be one of \(names), not \"\(name)\"\n".utf8))
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    selected.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#else
@main
enum ReplayFiles {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard let name = arguments.first, let target = FuzzTarget.named(name), arguments.count >= 2 else {
            print("usage: smis-fuzz TARGET FILE… (replays each file through the target)")
            for target in FuzzTarget.all { print("  \(target.name): \(target.summary)") }
            exit(2)
        }
        for path in arguments.dropFirst() {
            guard let bytes = FileManager.default.contents(atPath: path) else {
                print("cannot read \(path)")
                exit(1)
            }
            bytes.withUnsafeBytes { target.run($0) }
            print("ran \(path)")
        }
    }
}
#endif
