// The Pipeline target: from parser output to a training-ready folder (usage: Pipelines/README.md).
//
// Data flows one way:
//
// ```
// SortedFileWalker ×2 (each yielding only its worker slice) → SamplePairing → [bounded queue]
//   → open the photo (header only: PhotoInput) and decode the label map, its LabelHistogram
//     counted row by row as it is decoded (LabelInput)
//   → SamplePreparation: Partitioner → SampleCheck → RareAttributeFilter
//                        → SampleResize (the photo decoded straight to the training size, a
//                          JPEG in one pass over its rows; LabelRemap during the nearest resize)
//                        → ClassSplit
//     (a sample dropped before the resize still has its photo checked, a JPEG's compressed data
//     decoded whole and its pixels at 1/8 scale, so a broken photo is always reported as such:
//     decode and check come first in the stages' order)
//   → encode
//   → SampleCommitter (one thread: writes under temporary names (AtomicFiles), then a batch at a
//     time one syncfs, the renames, RunJournal) → RunOutcomes (each journaled outcome, once, into
//     the report's counts and the progress) → RunReport
//   → ShardStage (optional, `outputs.shards`): the prepared folder → Records' ShardSetWriter
// ```
//
// - `Configuration/`: typed configuration and the strict YAML reader (line numbers on errors).
// - `Stages/`: pure functions and small structs over in-memory `Image`/`LabelMap` values (and
//   `PhotoInput`, a photo whose pixels are decoded on demand, from bytes or an `Image`, and
//   `LabelInput`, a label map with its value counts); no files, no threads. Each has its own
//   tests in `Tests/PipelineTests/StageTests.swift`.
// - `Runner/`: files, threads, progress, resumption, worker slices, reports. `PipelineRunner`
//   (one method per phase: check the folders, prepare the output folder, read the journal,
//   walk and prepare, report; `+Sample` for one sample, `+OutputFolder` for the set-up)
//   takes `SampleCodecs` (ImageIO by default) so its logic is tested with a trivial format.
//   `ShardStage` is the one code path of `smisprep shard` and of a run's shard stage; the
//   front end runs it after the runner (never in a worker slice), with the report's statistics.
// - `Synthesis/`: `smisprep synth`'s drawn people (fixtures and benchmarks).
//
// - `Runner/WorkerOutputGathering`: `smisprep merge --from`, for worker slices that wrote
//   separate folders (no shared file system).
//
// Hooks: `PipelineRunner.observer` is called with every kept `PreparedSample` (remapped label
// map and photo at the training size, per-class pixel counts and boxes, the full-size source
// histogram) and its photo file's bytes, from worker threads, for statistics.
// `PipelineRunner.progress` receives `RunProgress` snapshots (after each sample is committed);
// drawing them is the front end's business.
