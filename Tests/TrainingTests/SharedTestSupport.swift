// SyntheticShards and tinyOptions live in _TrainingTestSupport, shared with the web page's
// tests; exported here so that every file of this target sees them without an import of its own.
@_exported import _TrainingTestSupport
