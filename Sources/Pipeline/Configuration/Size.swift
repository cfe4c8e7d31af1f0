import Foundation

/// A width × height in pixels: the training size of `resize.size` and `--size`.
public struct Size: Equatable, Sendable, CustomStringConvertible {
    /// The largest width or height accepted, far above any training size.
    public static let maximumSide = 8192

    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// `256x256` (or `256×256`, spaces around the numbers allowed); nil unless both are in
    /// 1...8192.
    public init?(parsing text: String) {
        // Empty parts kept, so that `256x256x` and `x256x256` are refused rather than read as 256x256.
        let parts = text.lowercased().replacingOccurrences(of: "×", with: "x")
            .split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let width = Int(parts[0].trimmingCharacters(in: .whitespaces)),
            let height = Int(parts[1].trimmingCharacters(in: .whitespaces)),
            (1...Self.maximumSide).contains(width), (1...Self.maximumSide).contains(height)
        else { return nil }
        self.init(width: width, height: height)
    }

    /// `WIDTHxHEIGHT`, as a pipeline file writes it.
    public var description: String { "\(width)x\(height)" }
}
