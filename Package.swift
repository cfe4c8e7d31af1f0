// swift-tools-version: 6.0
//
// SMIS toolkit: prepare DeepFashion for semantically multi-modal image synthesis and train
// GroupDNet on the CPU. Data flows one way, and the targets follow it:
//   files → ImageIO → Pipeline → Records → Tensor → GroupDNet → Training → Applications
// with Statistics shared by the data side, AtomicFiles (crash-safe writes) under every target
// that writes files, two thin command-line front ends, and Serve, the web page of `smis serve`.
import PackageDescription

/// What both command-line front ends use besides the library targets.
let commandLine: [Target.Dependency] = [
    .product(name: "ArgumentParser", package: "swift-argument-parser"),
    .product(name: "Logging", package: "swift-log"),
]

let package = Package(
    name: "smis-toolkit",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "smisprep", targets: ["smisprep"]),
        .executable(name: "smis", targets: ["smis"]),
        .library(name: "ImageIO", targets: ["ImageIO"]),
        .library(name: "Records", targets: ["Records"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
        .library(name: "Tensor", targets: ["Tensor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    ],
    targets: [
        // MARK: System libraries (found through pkg-config; see Sources/CCodecs/README.md)
        .systemLibrary(name: "CLibPNG", pkgConfig: "libpng16", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CLibJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CLibTIFF", pkgConfig: "libtiff-4", providers: [.apt(["libtiff-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // LAPACK's symmetric eigensolver from the same OpenBLAS (its header declares just that).
        .systemLibrary(name: "CLAPACK", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // Open MPI's C API, included by CMPIShim alone (see Sources/CMPIShim/README.md).
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        // oneDNN's C API (no pkg-config file in Debian's libdnnl-dev 2.6: the module map names the
        // library and libgomp, its OpenMP runtime, whose thread count the Tensor target sets).
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        // giflib (no pkg-config file in Debian 12's libgif-dev: the module map names the library).
        .systemLibrary(name: "CLibGIF", providers: [.apt(["libgif-dev"])]),

        // MARK: Thin C shims: the only code that includes the codec headers
        .target(name: "CCodecs", dependencies: ["CLibPNG", "CLibJPEG", "CLibTIFF"]),
        // The CPU's CRC32C instruction (SSE4.2), chosen at run time; Records falls back to tables.
        .target(name: "CRC32CShim"),
        // AVX2 inner loops of the PIL-exact resize, behind a run-time check (see its README).
        .target(name: "CResample", exclude: ["README.md"]),
        // The MPI calls of data-parallel training as plain C functions over ints and pointers.
        .target(name: "CMPIShim", dependencies: ["CMPI"], exclude: ["README.md"]),
        // giflib's animated-GIF encoder as one call over plain buffers (palette, indices, bytes out).
        // A C target does not autolink its module map's library, so it names libgif itself.
        .target(name: "CGIFShim", dependencies: ["CLibGIF"], linkerSettings: [.linkedLibrary("gif")]),

        // MARK: Crash-safe file writing (temporary, fsync, rename), shared by every writer
        // Linux's syncfs (not in Swift's Glibc): flush a batch of written files with one call.
        .target(name: "CFileSync", exclude: ["README.md"]),
        .target(name: "AtomicFiles", dependencies: ["CFileSync"], exclude: ["README.md"]),

        // MARK: Seeded mixing (SplitMix64 and the finalisers), shared by the data and model sides
        .target(name: "SeededRandom"),

        // MARK: Data side
        .target(name: "ImageIO", dependencies: ["CCodecs", "CResample", "AtomicFiles"]),
        .target(
            name: "Records",
            dependencies: [
                "ImageIO", "AtomicFiles", "CRC32CShim", "SeededRandom", .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["README.md"]),
        .target(name: "Statistics", dependencies: ["ImageIO", "AtomicFiles"], exclude: ["README.md"]),
        .target(
            name: "Pipeline",
            // Records: the optional last stage packs the prepared folder into shards (ShardStage).
            dependencies: [
                "ImageIO", "AtomicFiles", "Statistics", "Records", "SeededRandom", "Yams",
                .product(name: "Logging", package: "swift-log"),
            ]),

        // MARK: Model side
        .target(name: "Tensor", dependencies: ["CBLAS", "CDNNL", "SeededRandom"]),
        .target(name: "GroupDNet", dependencies: ["Tensor", "AtomicFiles"]),
        // Data-parallel training: the Communicator protocol, one process or MPI, launcher
        // detection, gradient buckets averaged while the backward pass runs.
        .target(name: "Distributed", dependencies: ["CMPIShim", "Tensor"]),
        .target(
            name: "Training",
            // Statistics: the label colours of the statistics report, for the training page's maps.
            dependencies: [
                "GroupDNet", "Tensor", "Records", "ImageIO", "Statistics", "AtomicFiles", "Distributed",
                .product(name: "Logging", package: "swift-log"),
            ]),

        // Metrics of generated images against the reference implementations: FID (pytorch-fid's
        // Inception), LPIPS (the lpips package's AlexNet), mCSD / mOCD and LPIPS diversity; and the
        // evaluation of a trained checkpoint (Training's synthesizer) on a shard split.
        .target(
            name: "Evaluation",
            dependencies: [
                "Tensor", "GroupDNet", "ImageIO", "Records", "Training", "Statistics", "AtomicFiles", "CLAPACK", "CBLAS",
            ]),

        // The paper's applications over a trained generator: appearance mixture, style morphing
        // (frames and an animated GIF), semantic manipulation of label maps, per-class contact sheets.
        .target(name: "Applications", dependencies: ["Training", "GroupDNet", "ImageIO", "Tensor", "Statistics", "CGIFShim"]),

        // The local web page of `smis serve` (Hummingbird): the model runs on a bounded worker
        // queue, never on the HTTP event loop.
        .target(
            name: "Serve",
            dependencies: [
                "Training", "GroupDNet", "Tensor", "Records", "ImageIO", "Statistics", "Applications",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // MARK: Command-line front ends (thin: parse, call, report)
        .executableTarget(
            name: "smisprep", dependencies: ["ImageIO", "Pipeline", "Records", "Statistics", "Yams"] + commandLine),
        .executableTarget(
            name: "smis",
            dependencies: [
                "Training", "GroupDNet", "Tensor", "Records", "ImageIO", "Distributed", "Evaluation", "Applications",
                "AtomicFiles", "Serve",
            ] + commandLine),

        // MARK: Benchmarks (release executables, not part of the test suite; each prints its
        // bound measured in the same run)
        // Clocks, peak memory and the sgemm bound, shared by the benchmarks.
        .target(name: "BenchmarkSupport", dependencies: ["Tensor", "CBLAS"], path: "Benchmarks/_Support"),
        .executableTarget(name: "bench-imageio", dependencies: ["ImageIO", "BenchmarkSupport"], path: "Benchmarks/ImageIO"),
        .executableTarget(name: "bench-records", dependencies: ["Records", "ImageIO"], path: "Benchmarks/Records"),
        .executableTarget(name: "bench-statistics", dependencies: ["Statistics", "ImageIO"], path: "Benchmarks/Statistics"),
        .executableTarget(name: "bench-tensor", dependencies: ["Tensor", "CBLAS", "BenchmarkSupport"], path: "Benchmarks/Tensor"),
        .executableTarget(
            name: "bench-pipeline", dependencies: ["Pipeline", "ImageIO", "AtomicFiles", "Statistics", "BenchmarkSupport"],
            path: "Benchmarks/Pipeline"),
        .executableTarget(
            name: "bench-groupdnet", dependencies: ["GroupDNet", "Training", "Tensor", "Pipeline", "BenchmarkSupport"],
            path: "Benchmarks/GroupDNet", exclude: ["pytorch_groupdnet.py"]),
        // Inception and LPIPS images/s beside PyTorch's (needs scripts/setup-evaluation-reference).
        .executableTarget(
            name: "bench-evaluation", dependencies: ["Evaluation", "Tensor", "BenchmarkSupport"],
            path: "Benchmarks/Evaluation", exclude: ["pytorch_throughput.py"]),
        // Runs `smis train` alone and under mpirun (build smis beside it) and models a cluster.
        .executableTarget(
            name: "bench-distributed", dependencies: ["GroupDNet", "Records", "ImageIO", "Tensor"],
            path: "Benchmarks/Distributed"),

        // MARK: Fuzzing (see Fuzz/README.md): one entry point per kind of file the tools read, and
        // their driver: libFuzzer's under `scripts/fuzz`, a replay of files in a normal build.
        .target(
            name: "FuzzTargets",
            dependencies: ["ImageIO", "Records", "Pipeline", "Statistics", "GroupDNet", "Tensor", "Training"],
            path: "Fuzz/Targets"),
        .executableTarget(name: "smis-fuzz", dependencies: ["FuzzTargets"], path: "Fuzz/Driver"),

        // MARK: Tests: one target per library target, plus shared helpers
        .target(name: "_TestSupport", dependencies: ["Tensor", "SeededRandom"], path: "Tests/_TestSupport"),
        .testTarget(name: "AtomicFilesTests", dependencies: ["AtomicFiles", "CFileSync", "_TestSupport"]),
        .testTarget(name: "ImageIOTests", dependencies: ["ImageIO", "AtomicFiles", "CResample", "_TestSupport", "SeededRandom"]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "CBLAS", "_TestSupport", "SeededRandom"], exclude: ["Fixtures"]),
        .testTarget(name: "GroupDNetTests", dependencies: ["GroupDNet", "Tensor", "_TestSupport", "SeededRandom"], exclude: ["Fixtures"]),
        .testTarget(name: "RecordsTests", dependencies: ["Records", "ImageIO", "_TestSupport", "SeededRandom"]),
        .testTarget(name: "StatisticsTests", dependencies: ["Statistics", "ImageIO", "_TestSupport", "SeededRandom"], exclude: ["Snapshots"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Records", "ImageIO", "Statistics", "AtomicFiles", "_TestSupport"]),
        // Tiny shard sets and training options, shared by the tests of the model side.
        .target(
            name: "_TrainingTestSupport", dependencies: ["Training", "GroupDNet", "Records", "ImageIO", "_TestSupport"],
            path: "Tests/_TrainingTestSupport"),
        .testTarget(
            name: "TrainingTests",
            dependencies: [
                "Training", "GroupDNet", "Tensor", "Records", "ImageIO", "Distributed", "_TestSupport",
                "_TrainingTestSupport",
            ]),
        .testTarget(
            name: "ServeTests",
            dependencies: ["Serve", "Training", "Tensor", "ImageIO", "_TestSupport", "_TrainingTestSupport"]),
        .testTarget(
            name: "EvaluationTests", dependencies: ["Evaluation", "Tensor", "GroupDNet", "ImageIO", "Records", "_TestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "ApplicationsTests",
            dependencies: ["Applications", "Training", "GroupDNet", "Tensor", "ImageIO", "CLibGIF", "_TestSupport"]),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "Tensor", "Yams", "_TestSupport"]),
        .testTarget(name: "FuzzTargetsTests", dependencies: ["FuzzTargets", "_TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
