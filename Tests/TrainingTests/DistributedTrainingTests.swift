import Foundation
import GroupDNet
import Training
import XCTest
import _TestSupport

/// `smis train` as two ranks under `mpirun` (on the two local cores, oversubscribed) against
/// one process at the same global batch, on tiny shards with a damaged record: the same samples
/// and the same training; a stop asked by signal; a killed rank; a resume on another count.
/// Skipped where Open MPI is not installed.
final class DistributedTrainingTests: TemporaryFolderTestCase {
    private var shards: URL { folder.appendingPathComponent("shards") }

    override func setUpWithError() throws {
        try super.setUpWithError()
        _ = try MPIJob.mpirun()
        // Seven records, record 1 damaged: three steps at a global batch of 2 read the whole
        // epoch, so the skip shifts the samples of every later step.
        try SyntheticShards.write(to: shards, count: 7)
        try SyntheticShards.damage(record: 1, ofShard: "train-00000", in: shards)
    }

    private func trainArguments(_ run: String, batch: Int, steps: Int, extra: [String] = []) -> [String] {
        ["train", "--shards", shards.path, "--out", folder.appendingPathComponent(run).path, "--preset", "tiny",
         "--batch-size", "\(batch)", "--max-steps", "\(steps)", "--sample-count", "0"] + extra
    }

    /// Two ranks' arguments for a run that only a signal or a failure ends.
    private func endlessRun(_ run: String) -> [String] {
        trainArguments(run, batch: 1, steps: 100_000, extra: ["--epochs", "100000"])
    }

    /// Validation after the third step, on the two validation records: split across two ranks.
    private let validated = ["--val-every", "3", "--val-records", "2"]

    /// One process at batch 2, with `threads` tensor threads.
    private func trainAlone(_ run: String, threads: Int) throws {
        let result = try BuiltTool.run("smis", trainArguments(run, batch: 2, steps: 3, extra: validated),
                                       environment: ["TENSOR_THREADS": "\(threads)"])
        XCTAssertEqual(result.status, 0, result.errors)
    }

    func testTwoRanksAtBatchOneTrainWhatOneProcessTrainsAtBatchTwo() throws {
        try trainAlone("alone", threads: 1)
        try trainAlone("alone-2-threads", threads: 2)
        let job = try MPIJob.start(ranks: 2, trainArguments("ranks", batch: 1, steps: 3, extra: validated))
        XCTAssertEqual(job.wait(), 0, job.output + job.errors)
        XCTAssertTrue(job.output.contains("data parallel: 2 ranks (mpirun"), job.output)
        XCTAssertTrue(job.output.contains("× batch 1 = global batch 2"), job.output)
        XCTAssertEqual(job.errors.components(separatedBy: "skipped damaged record").count - 1, 1,
                       "rank 0 alone reports the skip:\n\(job.errors)")
        try assertSameTraining(folder.appendingPathComponent("ranks"), folder.appendingPathComponent("alone"),
                               sumOrderOnly: folder.appendingPathComponent("alone-2-threads"))
        let events = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("ranks").path)
            .filter { $0.hasPrefix("events.out.tfevents.") }
        XCTAssertEqual(events.count, 1, "rank 0 alone writes: \(events)")
    }

    /// The same over TCP between two network namespaces joined by a veth pair, as two machines
    /// talk: one rank in each (`mpirun` reaches the second namespace through `ip netns exec`
    /// as its remote shell), shared memory off (`--mca btl tcp,self`).
    func testTheSameOverTCPBetweenTwoNetworkNamespaces() throws {
        let network = try TwoNamespaces(folder: folder)
        defer { network.remove() }
        try trainAlone("alone", threads: 1)
        try trainAlone("alone-2-threads", threads: 2)
        let smis = try BuiltTool.executable("smis").path
        let mpi = try MPIJob.mpirun()
        let command = network.runInFirst([mpi, "--allow-run-as-root", "--oversubscribe", "-np", "2",
                                          "-H", "\(network.addresses[0]):1,\(network.addresses[1]):1",
                                          "--mca", "plm_rsh_agent", network.agent.path,
                                          "--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", network.subnet,
                                          "--mca", "oob_tcp_if_include", network.subnet, "-x", "TENSOR_THREADS",
                                          smis] + trainArguments("ranks", batch: 1, steps: 3, extra: validated))
        let before = network.bytesSent()
        let job = try MPIJob(command: command)
        XCTAssertEqual(job.wait(), 0, job.output + job.errors)
        XCTAssertGreaterThan(network.bytesSent() - before, 1_000_000, "the gradients crossed the veth pair")
        try assertSameTraining(folder.appendingPathComponent("ranks"), folder.appendingPathComponent("alone"),
                               sumOrderOnly: folder.appendingPathComponent("alone-2-threads"))
    }

    /// SIGTERM to each rank, as Slurm sends it: both finish the step, rank 0 saves one
    /// checkpoint, both exit with 143. The run then resumes on one process at the same global
    /// batch, and is refused on three ranks, among which 2 samples do not divide.
    func testSIGTERMToTheRanksSavesOneCheckpointAndOneProcessResumes() throws {
        let run = folder.appendingPathComponent("run")
        let job = try MPIJob.start(ranks: 2, endlessRun("run"))
        XCTAssertTrue(job.waitForOutput("step 2/"), job.output + job.errors)
        let ranks = job.rankProcesses()
        XCTAssertEqual(ranks.count, 2)
        for rank in ranks { kill(rank, SIGTERM) }
        XCTAssertEqual(job.wait(), 143, job.output + job.errors)
        let stopped = try stoppedStep(in: job.output)
        XCTAssertEqual(try checkpointFolders(run), [String(format: "step-%08d", stopped)], "one checkpoint, rank 0's")
        XCTAssertEqual(try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").count, stopped)

        let resumed = try BuiltTool.run("smis", ["train", "--shards", shards.path, "--out", run.path, "--resume",
                                                 "--max-steps", "\(stopped + 2)"],
                                        environment: ["TENSOR_THREADS": "1"])
        XCTAssertEqual(resumed.status, 0, resumed.errors)
        XCTAssertTrue(resumed.output.contains("resumed from \(run.path)/checkpoints/step-"), resumed.output)
        XCTAssertTrue(resumed.output.contains("3 steps per epoch"), "the global batch stays 2:\n\(resumed.output)")
        XCTAssertTrue(resumed.output.contains("finished at step \(stopped + 2)"), resumed.output)
        XCTAssertTrue(resumed.errors.contains("note: the run was trained on 2 ranks, this one on 1"), resumed.errors)
        let optionsFile = run.appendingPathComponent("options.json")
        let options = try JSONSerialization.jsonObject(with: Data(contentsOf: optionsFile))
        let saved = try XCTUnwrap((options as? [String: Any])?["options"] as? [String: Any])
        XCTAssertEqual(saved["batchSize"] as? Int, 2)
        XCTAssertNil(saved["ranks"], "one process")

        let three = try MPIJob.start(ranks: 3, ["train", "--shards", shards.path, "--out", run.path, "--resume"])
        XCTAssertEqual(three.wait(), 1, three.output + three.errors)
        XCTAssertTrue(three.errors.contains("--resume on 3 ranks cannot keep the run's global batch of 2 (batch 2 on "
                                            + "one process): 2 samples do not divide evenly among 3 ranks"),
                      three.errors)
        XCTAssertEqual(three.errors.components(separatedBy: "Error: ").count - 1, 1, "one copy:\n\(three.errors)")
        XCTAssertFalse(three.errors.contains("MPI_ABORT"), "an agreed error ends cleanly:\n\(three.errors)")
    }

    /// SIGUSR1 to mpirun, which forwards it to every rank untouched (SIGTERM it would follow
    /// with SIGKILL a second later): the ranks stop after the same step, status 138.
    func testSIGUSR1ToMpirunStopsEveryRankWithOneCheckpoint() throws {
        let run = folder.appendingPathComponent("run")
        let job = try MPIJob.start(ranks: 2, endlessRun("run"))
        XCTAssertTrue(job.waitForOutput("step 2/"), job.output + job.errors)
        kill(job.process.processIdentifier, SIGUSR1)
        XCTAssertEqual(job.wait(), 138, job.output + job.errors)
        XCTAssertTrue(job.errors.contains("SIGUSR1: saving a checkpoint after the current step"), job.errors)
        let stopped = try stoppedStep(in: job.output)
        XCTAssertEqual(try checkpointFolders(run), [String(format: "step-%08d", stopped)])
        let checkpoint = run.appendingPathComponent(String(format: "checkpoints/step-%08d", stopped))
        let state = try TrainingCheckpoint.readState(checkpoint)
        XCTAssertEqual(state.step, stopped)
        XCTAssertEqual(state.options.ranks, 2)
    }

    /// A rank killed outright (SIGKILL, an out-of-memory kill): the other would wait forever
    /// in its next collective, so mpirun must end the job, with an error.
    func testAKilledRankEndsTheJobWithAnErrorInsteadOfAHang() throws {
        let job = try MPIJob.start(ranks: 2, endlessRun("run"))
        XCTAssertTrue(job.waitForOutput("step 2/"), job.output + job.errors)
        let ranks = job.rankProcesses()
        XCTAssertEqual(ranks.count, 2)
        kill(ranks[1], SIGKILL)
        let status = job.wait(seconds: 60)
        XCTAssertNotNil(status, "the job hung after a rank died")
        XCTAssertNotEqual(status, 0, "mpirun reports the job failed (137 here: the rank's SIGKILL)")
    }

    /// An error of one rank in the middle of the run (rank 0 cannot write its first checkpoint:
    /// the checkpoints folder is a file) is printed naming the rank and ends the job through
    /// MPI_Abort, while rank 1 waits in its next collective.
    func testAnErrorOfOneRankMidRunEndsTheJobThroughMPIAbort() throws {
        let run = folder.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        try Data().write(to: run.appendingPathComponent("checkpoints"))
        let job = try MPIJob.start(ranks: 2, trainArguments("run", batch: 1, steps: 3, extra: ["--save-every", "2"]))
        let status = job.wait(seconds: 60)
        XCTAssertNotNil(status, "the job hung after a rank failed")
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(job.output.contains("step 2/3"), job.output)
        XCTAssertTrue(job.errors.contains("Error: rank 0 of 2: \(run.path)/checkpoints/"), job.errors)
        // smis's own line before MPI_Abort: Open MPI's banner after it is sometimes lost (its
        // show_help message can arrive after the aborting rank is gone).
        XCTAssertTrue(job.errors.contains("(ending the job: every rank stops)"), job.errors)
    }

    /// A start-up failure every rank meets (here a run folder that is a file) is shown once and
    /// ends every rank cleanly with status 1, not through MPI_Abort.
    func testAStartUpFailureOfEveryRankIsShownOnceWithoutAbort() throws {
        try Data().write(to: folder.appendingPathComponent("file"))
        let job = try MPIJob.start(ranks: 2, trainArguments("file", batch: 1, steps: 1))
        XCTAssertEqual(job.wait(), 1, job.output + job.errors)
        let file = folder.appendingPathComponent("file").path
        XCTAssertTrue(job.errors.contains("Error: rank 0 of 2: \(file): is a file, not a run folder"), job.errors)
        XCTAssertEqual(job.errors.components(separatedBy: "Error: ").count - 1, 1, job.errors)
        XCTAssertFalse(job.errors.contains("MPI_ABORT"), job.errors)
    }

    /// A start-up failure of one rank alone (here rank 1's shards do not exist; mpirun's ":"
    /// gives each rank its own command line) ends both ranks, shown once, without MPI_Abort:
    /// rank 0, whose start succeeded, learns of it instead of waiting for rank 1 forever.
    func testAStartUpFailureOfOneRankEndsBoth() throws {
        let smis = try BuiltTool.executable("smis").path
        let missing = folder.appendingPathComponent("no-shards").path
        var rankOne = trainArguments("run", batch: 1, steps: 1)
        rankOne[rankOne.firstIndex(of: shards.path)!] = missing
        let job = try MPIJob(command: [try MPIJob.mpirun()] + MPIJob.localOptions
                                 + ["-np", "1", smis] + trainArguments("run", batch: 1, steps: 1)
                                 + [":", "-np", "1", smis] + rankOne)
        XCTAssertEqual(job.wait(), 1, job.output + job.errors)
        XCTAssertTrue(job.errors.contains("Error: rank 1 of 2: \(missing)"), job.errors)
        XCTAssertEqual(job.errors.components(separatedBy: "Error: ").count - 1, 1, job.errors)
        XCTAssertFalse(job.errors.contains("MPI_ABORT"), job.errors)
    }

    // MARK: Helpers

    private func stoppedStep(in output: String) throws -> Int {
        let line = try XCTUnwrap(output.split(separator: "\n").first { $0.hasPrefix("interrupted at step ") }, output)
        return try XCTUnwrap(Int(line.dropFirst("interrupted at step ".count).prefix { $0.isNumber }))
    }

    private func checkpointFolders(_ run: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: TrainingCheckpoint.folder(inRun: run).path)
            .filter { $0.hasPrefix("step-") }.sorted()
    }

    /// The distributed run `ranks` trained what the single process `alone` did: the same losses
    /// at every step (to 1e-5), the same skip, the same reader position, and the same weights
    /// and batch-norm statistics.
    ///
    /// Weights are compared against what one process itself reproduces when only the order of
    /// its sums changes (`sumOrderOnly`: the same run on two threads). Plain 1e-5 of each tensor's
    /// norm cannot hold for any two runs whose sums are split differently: with β₁ = 0, Adam's
    /// first step moves every element by lr · sign(gradient), so elements whose gradient is at
    /// rounding level (the biases before a batch norm have zero gradient in exact arithmetic)
    /// step ±lr as rounding decides. So each tensor must be within 1e-5 of its norm plus twice
    /// the distance between the one-process runs.
    private func assertSameTraining(_ ranks: URL, _ alone: URL, sumOrderOnly other: URL,
                                    file: StaticString = #filePath, line: UInt = #line) throws {
        func metrics(_ run: URL) throws -> [StepMetrics] {
            try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
                .map { try JSONDecoder().decode(StepMetrics.self, from: Data($0.utf8)) }
        }
        let distributed = try metrics(ranks), single = try metrics(alone)
        XCTAssertEqual(distributed.map(\.step), [1, 2, 3], file: file, line: line)
        XCTAssertEqual(distributed.map(\.skippedRecords), single.map(\.skippedRecords), file: file, line: line)
        XCTAssertEqual(single.last?.skippedRecords, 1, "the damaged record was met", file: file, line: line)
        for (d, s) in zip(distributed, single) {
            let (dg, sg) = (d.losses.generator, s.losses.generator)
            let (dd, sd) = (d.losses.discriminator, s.losses.discriminator)
            let terms = [(dg.total, sg.total, "G"), (dg.adversarial, sg.adversarial, "adv"),
                         (dg.featureMatching, sg.featureMatching, "feat"),
                         (dg.kullbackLeibler, sg.kullbackLeibler, "kld"),
                         (dd.total, sd.total, "D"), (dd.fake, sd.fake, "fake"), (dd.real, sd.real, "real")]
            for (x, y, name) in terms {
                XCTAssertEqual(x, y, accuracy: 1e-5 * max(1, abs(y)), "step \(s.step) \(name)", file: file, line: line)
            }
            XCTAssertEqual(d.dataParallel?.ranks, 2, file: file, line: line)
            XCTAssertGreaterThan(d.dataParallel?.gradientBytes ?? 0, 0, file: file, line: line)
        }
        // Validation is split across the ranks (one record each) and summed: the losses of one
        // process on both records, up to what the weights' sum-order spread changes in them.
        let (rankValidation, aloneValidation) = (distributed.last?.validation, single.last?.validation)
        XCTAssertEqual(rankValidation?.records, 2, file: file, line: line)
        if let r = rankValidation?.losses, let a = aloneValidation?.losses {
            let totals = [(r.generator.total, a.generator.total, "G"), (r.discriminator.total, a.discriminator.total, "D")]
            for (x, y, name) in totals {
                XCTAssertEqual(x, y, accuracy: 1e-2 * abs(y), "validation \(name)", file: file, line: line)
            }
        } else {
            XCTFail("no validation after step 3", file: file, line: line)
        }
        let last = "checkpoints/step-00000003"
        let rankState = try TrainingCheckpoint.readState(ranks.appendingPathComponent(last))
        let aloneState = try TrainingCheckpoint.readState(alone.appendingPathComponent(last))
        XCTAssertEqual(rankState.reader.cursor(count: 7), aloneState.reader.cursor(count: 7),
                       "the same samples were read", file: file, line: line)
        XCTAssertEqual([rankState.options.batchSize, rankState.options.ranks ?? 1], [1, 2], file: file, line: line)
        var tensors = 0, withinPlainTolerance = 0
        for name in ["net_G", "net_E", "net_D"] {
            let read = { (run: URL) in
                try SafeTensors.read(from: run.appendingPathComponent("\(last)/\(name).safetensors"))
            }
            let (d, s, o) = (try read(ranks), try read(alone), try read(other))
            XCTAssertEqual(Set(d.entries.keys), Set(s.entries.keys), file: file, line: line)
            for (key, entry) in s.entries {
                guard let expected = entry.floats else {
                    XCTAssertEqual(d.entries[key]?.int64s, entry.int64s, "\(name) \(key)", file: file, line: line)
                    continue
                }
                let actual = try XCTUnwrap(d.entries[key]?.floats), reordered = try XCTUnwrap(o.entries[key]?.floats)
                if name == "net_G" && Self.isCancelledByBatchNorm(key) {
                    let largest = zip(actual, expected).map { Swift.abs($0 - $1) }.max() ?? 0
                    XCTAssertLessThanOrEqual(largest, Self.noiseDrivenBound(steps: 3), "\(name) \(key): |Δ|max",
                                             file: file, line: line)
                    continue
                }
                let norm = Self.norm(expected, nil), distance = Self.norm(actual, expected)
                let allowed = 1e-5 * norm + 2 * Self.norm(reordered, expected)
                tensors += 1
                if distance <= 1e-5 * norm { withinPlainTolerance += 1 }
                XCTAssertLessThanOrEqual(distance, allowed, "\(name) \(key): ‖Δ‖ \(distance), ‖w‖ \(norm)",
                                         file: file, line: line)
            }
        }
        print("  \(tensors) tensors; \(withinPlainTolerance) within 1e-5 of their norm, the rest within the spread "
              + "of the sum order")
    }

    /// Biases whose every use is a batch norm's input: G's fc (its output reaches only the
    /// blocks' norms, through identity shortcuts) and each block's conv_0 (before norm_1). The
    /// norm subtracts the mean, so their gradient is exactly zero and what is computed is
    /// rounding noise; Adam turns noise of any size into steps of about the learning rate, so
    /// two sum orders give unrelated values, comparable only against Adam's largest steps.
    private static func isCancelledByBatchNorm(_ key: String) -> Bool {
        key == "fc.bias" || key.hasSuffix(".conv_0.bias")
    }

    /// How far two runs can move one element apart in `steps` Adam steps at G's rate (1e-4)
    /// with the reference's β₁ = 0, β₂ = 0.9: step t moves it by at most lr·√((1 − β₂ᵗ)/(1 − β₂)).
    private static func noiseDrivenBound(steps: Int) -> Float {
        let (rate, beta2) = (1e-4, 0.9)
        let largest = (1...steps).reduce(0.0) { $0 + rate * ((1 - pow(beta2, Double($1))) / (1 - beta2)).squareRoot() }
        return Float(2 * largest)
    }

    /// ‖a − b‖ (‖a‖ when b is nil), in Double.
    private static func norm(_ a: [Float], _ b: [Float]?) -> Double {
        var total = 0.0
        for index in a.indices {
            let difference = Double(a[index]) - Double(b?[index] ?? 0)
            total += difference * difference
        }
        return total.squareRoot()
    }
}
