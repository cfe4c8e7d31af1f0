import ArgumentParser
import Pipeline
import Records
import Statistics

// Option values that ArgumentParser reads straight into the library's types, so each text is
// parsed once, where the option is read, and a bad value is refused in ArgumentParser's own
// words ("The value 'X' is invalid for '--size <size>'", then the option's help) with exit
// status 64, as `smis train --preset` is.
//
// The enumerations' values are listed in each option's help text, so `allValueStrings` is
// left empty: ArgumentParser would otherwise repeat them as "(values: …)".

extension Size: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}

extension FilterThreshold: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}

extension ResizeSettings.Fit: ExpressibleByArgument {
    public static var allValueStrings: [String] { [] }
}

extension WorkerSlice: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}

extension SegmentationRecord.ImageEncoding: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}

extension SegmentationRecord.LabelEncoding: ExpressibleByArgument {
    public static var allValueStrings: [String] { [] }
}

/// `--shard-size`: a byte count such as `256MB`, `64MiB` or `4096`.
extension ShardSizing: ExpressibleByArgument {
    public init?(argument: String) {
        guard let bytes = ShardSizing.byteCount(parsing: argument) else { return nil }
        self = .bytes(bytes)
    }
}
