import Distributed
import Foundation
import Training

/// Runs `body` as one rank of an MPI job and turns its end into this process's exit status,
/// ending MPI either way, so that no rank is ever left waiting for another:
///
/// - success, or a stop (128 + the signal): every rank got there together; MPI is finalised.
/// - a failure every rank learnt of together (`CollectiveFailure`, from the start-up checks), or
///   one every rank meets at the same step from values they share (a non-finite loss, ranks
///   that differ): one copy is printed, by the lowest failing rank or rank 0; status 1 after
///   finalising.
/// - any other error: this rank prints it, naming itself, and calls `MPI_Abort`, on which the
///   launcher ends every rank of the job with status 1.
func runAsRank(of world: MPIWorld, _ body: () throws -> Int32) -> Int32 {
    let rank = "rank \(world.rank) of \(world.size)"
    do {
        let status = try body()
        MPIWorld.finalize()
        return status
    } catch let failure as CollectiveFailure {
        if failure.isReportedHere { printError("Error: \(rank): \(failure)") }
        MPIWorld.finalize()
        return 1
    } catch let error as TrainingError where error.isSameOnEveryRank {
        if world.rank == 0 { printError("Error: \(error)") }
        MPIWorld.finalize()
        return 1
    } catch {
        printError("Error: \(rank): \(error)")
        printError("(ending the job: every rank stops)")
        MPIWorld.abort(code: 1)
    }
}
