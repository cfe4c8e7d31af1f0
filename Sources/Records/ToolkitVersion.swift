/// The toolkit's version, in the lowest target both front ends link: `smisprep --version` and
/// `smis --version` print it, and shard manifests record it as the writing tool.
public enum ToolkitVersion {
    public static let string = "0.1.0"
}
