import Foundation

/// oneDNN (the `--precision bf16` and `TENSOR_CONVOLUTION` routes) runs on libgomp, whose
/// threads by default spin while they wait for the next parallel region. Between oneDNN calls
/// this process's own workers do the rest of the step on the same cores, so the spinning threads
/// compete with them: a bf16 training iteration measured 16.87 CPU seconds spinning and 12.99
/// with `OMP_WAIT_POLICY=passive` (bench-groupdnet, same machine state). libgomp reads the
/// variable once, when it is loaded, before `main` runs, so setting it means starting again:
/// when it is unset, `smis` sets it to passive and executes itself anew (same arguments, same
/// process id). A value the user set is left alone.
enum OpenMPWaitPolicy {
    static func makePassiveUnlessSet() {
        guard getenv("OMP_WAIT_POLICY") == nil else { return }
        // The executable's own path, not /proc/self/exe: the process keeps its name (`smis` in
        // ps, and for tools and tests that find ranks by name), which exec takes from the path.
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            return
        }
        setenv("OMP_WAIT_POLICY", "passive", 1)
        execv(executable, CommandLine.unsafeArgv)
        // Only reached when the exec failed: go on with libgomp's default policy.
    }
}
