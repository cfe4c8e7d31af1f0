import Foundation

/// The reference's own GroupDNet timed on PyTorch in a child process
/// (pytorch_groupdnet.py beside this file), so that its figures come from the same run, the
/// same machine load and the same thread count as ours.
struct PyTorchFigures {
    var precision: String
    var forward: [Double]
    var iteration: [Double]

    var bestForward: Double { forward.min() ?? .nan }
    var bestIteration: Double { iteration.min() ?? .nan }
}

enum PyTorchReference {
    /// Where the reference's source is: `--reference`, else $SMIS_REFERENCE, else .cache/SMIS.
    static func referenceFolder(_ option: String?) -> String {
        option ?? ProcessInfo.processInfo.environment["SMIS_REFERENCE"] ?? packageRoot + "/.cache/SMIS"
    }

    static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    /// Runs the script for one precision ("float32" or "bf16"); nil, with the reason, when torch
    /// or the reference is missing or the script fails.
    static func measure(
        precision: String, reference: String, threads: Int, repeats: Int, batch: Int
    ) -> (figures: PyTorchFigures?, problem: String?) {
        let script = packageRoot + "/Benchmarks/GroupDNet/pytorch_groupdnet.py"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", script, "--reference", reference, "--threads", String(threads), "--repeats", String(repeats),
            "--batch", String(batch), "--precision", precision,
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["OMP_NUM_THREADS"] = String(threads)
        process.environment = environment
        let output = Pipe(), errors = Pipe()
        (process.standardOutput, process.standardError) = (output, errors)
        do { try process.run() } catch { return (nil, "cannot start python3: \(error)") }
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let message = String(decoding: errorData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0 else {
            let reason = message.split(separator: "\n").last.map(String.init) ?? "exit \(process.terminationStatus)"
            return (nil, reason)
        }
        guard let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
            let json = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let forward = json["forward"] as? [Double], let iteration = json["iteration"] as? [Double]
        else { return (nil, "unreadable output from \(script)") }
        return (PyTorchFigures(precision: precision, forward: forward, iteration: iteration), nil)
    }
}
