/// The toolkit's version, printed by `--version` and stored in reports and manifests.
enum ToolVersion {
    static let string = "0.1.0"
}
