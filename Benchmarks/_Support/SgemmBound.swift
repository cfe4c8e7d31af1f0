import CBLAS
import Dispatch
import Foundation
import Tensor

/// The dense float32 bound the model benchmarks print their rates against: a 2048³
/// `cblas_sgemm` split by columns over `workers`, each running single-threaded OpenBLAS, as
/// the Tensor target's convolution tasks do. Best of three runs, as GFLOP/s of wall time and
/// GFLOP per CPU second of this process.
public func sgemmBound(workers: Int = TensorThreads.count) -> (wall: Double, perCPUSecond: Double) {
    let n = 2048
    var random = RandomSource(seed: 7)
    let a = random.normals(n * n), b = random.normals(n * n)
    var c = [Float](repeating: 0, count: n * n)
    var best = (wall: Double.infinity, cpu: Double.infinity)
    for _ in 0..<3 {
        let time = measure {
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                let (ap, bp, cp) = (ap.baseAddress!, bp.baseAddress!, cp.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    let start = n * worker / workers, end = n * (worker + 1) / workers
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(end - start), Int32(n), 1,
                                ap, Int32(n), bp + start, Int32(n), 0, cp + start, Int32(n))
                }
            } } }
        }
        best = (min(best.wall, time.wall), min(best.cpu, time.cpu))
    }
    let flops = 2 * pow(Double(n), 3)
    return (flops / best.wall / 1e9, flops / best.cpu / 1e9)
}
