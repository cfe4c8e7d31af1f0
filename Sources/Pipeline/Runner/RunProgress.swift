/// Where a run stands, reported to the front end after every sample (from worker threads,
/// one call at a time). The front end decides how often to draw it.
public struct RunProgress: Sendable {
    /// Photos in this slice, counted by a quick walk before the run (0 when not counted).
    public var total: Int
    /// Samples finished by earlier runs and skipped.
    public var resumed: Int
    /// Samples finished by this run so far.
    public var processed: Int
    public var kept: Int
    public var dropped: Int
    /// Seconds since processing started.
    public var elapsed: Double
    /// True on the last report of a run.
    public var finished: Bool
}
