/// Why a run could not start or finish. Sample-level problems are never errors: they are
/// drops in the report.
public enum PipelineRunError: Error, CustomStringConvertible, Sendable {
    case missingSetting(String)
    case notAFolder(key: String, path: String)
    case partitionList(String)
    case configurationChanged(output: String, differences: [String])
    case otherWorkerCount(output: String, found: String)
    /// Another process holds this output folder (for this worker slice).
    case outputBusy(output: String)
    /// The output folder lies inside an input folder, whose walk would read the outputs.
    case outputInsideInput(output: String, key: String, input: String)
    case writeFailed(String)
    case cancelled(processed: Int)

    public var description: String {
        switch self {
        case .missingSetting(let key):
            return "no '\(key)' folder given (set it in the pipeline file or on the command line)"
        case .notAFolder(let key, let path): return "\(key) '\(path)' is not a folder"
        case .partitionList(let message): return "partition list: \(message)"
        case .configurationChanged(let output, let differences):
            let shown = differences.prefix(4).joined(separator: "; ") + (differences.count > 4 ? "; …" : "")
            return "\(output) holds a run prepared with another configuration (now \(shown)); "
                + "use another output folder, or --restart to prepare it again"
        case .outputBusy(let output):
            return "\(output) is in use by another smisprep run of this worker slice; "
                + "wait for it to end, or use another output folder"
        case .outputInsideInput(let output, let key, let input):
            return "the output folder \(output) is inside the \(key) folder \(input), "
                + "whose walk would read the outputs as inputs; choose an output folder outside it"
        case .otherWorkerCount(let output, let found):
            return "\(output) holds journals of another worker count (\(found)); use the same --worker N or --restart"
        case .writeFailed(let message): return "cannot write: \(message)"
        case .cancelled(let processed):
            return "interrupted after \(processed) samples; run the same command again to resume"
        }
    }
}
