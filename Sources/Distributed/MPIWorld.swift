import CMPIShim
import Foundation

/// One process of an MPI job (Open MPI through the C shim `CMPIShim`, the only code that
/// includes `mpi.h`). MPI is initialised with `MPI_THREAD_MULTIPLE`: the main thread makes the
/// small collectives (batch-norm sums, losses, the stop flag) on the world communicator while
/// the gradient thread reduces buckets on a duplicate of it, and the two must not wait for each
/// other. Errors come back as codes (`MPI_ERRORS_RETURN`) and are thrown as
/// ``CommunicationError``, naming the operation and the rank.
public final class MPIWorld: Communicator, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    /// The MPI library's own description (first line of `MPI_Get_library_version`).
    public let libraryVersion: String
    private let handle: Int32
    private let name: String

    private init(handle: Int32, rank: Int, size: Int, libraryVersion: String, name: String) {
        self.handle = handle
        self.rank = rank
        self.size = size
        self.libraryVersion = libraryVersion
        self.name = name
    }

    /// Initialises MPI and joins the job `launch` describes. Throws when MPI cannot start, does
    /// not grant `MPI_THREAD_MULTIPLE`, or sees another rank or size than the launcher announced
    /// (`srun` without `--mpi=pmix` gives every task a world of one).
    public static func join(_ launch: LaunchEnvironment) throws -> MPIWorld {
        let version = linkedLibraryVersion
        var provided: Int32 = 0, multiple: Int32 = 0
        if smis_mpi_is_initialized() == 0 {
            let code = smis_mpi_initialize(&provided, &multiple)
            guard code == 0 else {
                throw CommunicationError(operation: "MPI_Init_thread", rank: launch.rank, size: launch.size,
                                         message: errorString(code))
            }
            guard multiple != 0 else {
                throw LaunchError(reason: "\(version) grants thread level \(provided), not MPI_THREAD_MULTIPLE, which "
                                      + "training needs (the gradient thread and the main thread communicate at once)",
                                  hint: "use an Open MPI built with thread support (Debian's openmpi-bin is)")
            }
        }
        let world = smis_mpi_world()
        var rank: Int32 = 0, size: Int32 = 0
        try check(smis_mpi_rank(world, &rank), "MPI_Comm_rank", rank: launch.rank, size: launch.size)
        try check(smis_mpi_size(world, &size), "MPI_Comm_size", rank: Int(rank), size: launch.size)
        if let expected = launch.size, expected != Int(size) {
            let launcher = launch.launcher?.rawValue ?? "the launcher"
            throw LaunchError(reason: "\(launcher) started \(expected) processes but MPI sees \(size) in this one's "
                                  + "job (rank \(rank)), so they would not train together",
                              hint: launch.launcher == .srun ? "start them with srun --mpi=pmix"
                                  : "check that mpirun and the MPI library smis links are the same Open MPI")
        }
        if let expected = launch.rank, expected != Int(rank) {
            throw LaunchError(reason: "the launcher calls this process rank \(expected), MPI calls it rank \(rank)",
                              hint: "check that the launcher and the MPI library smis links are the same Open MPI")
        }
        return MPIWorld(handle: world, rank: Int(rank), size: Int(size), libraryVersion: version,
                        name: "MPI_COMM_WORLD")
    }

    /// Ends MPI in this process (after the last collective of every thread).
    public static func finalize() {
        if smis_mpi_is_initialized() != 0 { _ = smis_mpi_finalize() }
    }

    /// Makes the launcher end every process of the job with `code` (`MPI_Abort`), so that the
    /// others do not wait forever for this one. Does not return.
    public static func abort(code: Int32) -> Never {
        smis_mpi_abort(code)
        // MPI_Abort does not return on Open MPI; should it, the process must still end.
        exit(code)
    }

    public func duplicate() throws -> Communicator {
        var copy: Int32 = 0
        try check(smis_mpi_duplicate(handle, &copy), "MPI_Comm_dup")
        return MPIWorld(handle: copy, rank: rank, size: size, libraryVersion: libraryVersion,
                        name: name + " (duplicate)")
    }

    public func sum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        guard let base = values.baseAddress, !values.isEmpty else { return }
        try check(smis_mpi_sum_float(handle, base, Int64(values.count)), "MPI_Allreduce of \(values.count) floats")
    }

    public func sum(_ values: UnsafeMutableBufferPointer<Double>) throws {
        guard let base = values.baseAddress, !values.isEmpty else { return }
        try check(smis_mpi_sum_double(handle, base, Int64(values.count)), "MPI_Allreduce of \(values.count) doubles")
    }

    public func maximum(_ values: UnsafeMutableBufferPointer<Int64>) throws {
        guard let base = values.baseAddress, !values.isEmpty else { return }
        try check(smis_mpi_max_int64(handle, base, Int32(values.count)), "MPI_Allreduce (maximum)")
    }

    public func minimum(_ values: UnsafeMutableBufferPointer<Int64>) throws {
        guard let base = values.baseAddress, !values.isEmpty else { return }
        try check(smis_mpi_min_int64(handle, base, Int32(values.count)), "MPI_Allreduce (minimum)")
    }

    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        try check(smis_mpi_broadcast(handle, base, Int64(bytes.count), Int32(root)),
                  "MPI_Bcast of \(bytes.count) bytes")
    }

    public func barrier() throws {
        try check(smis_mpi_barrier(handle), "MPI_Barrier")
    }

    private func check(_ code: Int32, _ operation: @autoclosure () -> String) throws {
        guard code != 0 else { return }
        throw CommunicationError(operation: operation() + " on \(name)", rank: rank, size: size,
                                 message: Self.errorString(code))
    }

    private static func check(_ code: Int32, _ operation: String, rank: Int?, size: Int?) throws {
        guard code != 0 else { return }
        throw CommunicationError(operation: operation, rank: rank, size: size, message: errorString(code))
    }

    private static func errorString(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        smis_mpi_error_string(code, &buffer, Int32(buffer.count))
        return String(cString: buffer) + " (MPI error \(code))"
    }

    /// The first line of the linked MPI library's `MPI_Get_library_version` (callable before
    /// MPI is initialised, and without a launcher).
    public static var linkedLibraryVersion: String {
        var buffer = [CChar](repeating: 0, count: 512)
        smis_mpi_library_version(&buffer, Int32(buffer.count))
        return String(cString: buffer)
    }
}

/// An MPI call failed.
public struct CommunicationError: Error, Equatable, CustomStringConvertible {
    public let operation: String
    /// The rank and job size of the process where it failed, when known.
    public let rank: Int?
    public let size: Int?
    public let message: String

    public init(operation: String, rank: Int?, size: Int?, message: String) {
        self.operation = operation
        self.rank = rank
        self.size = size
        self.message = message
    }

    public var description: String {
        let place = rank.map { rank in "rank \(rank)" + (size.map { " of \($0)" } ?? "") + ": " } ?? ""
        return "\(place)\(operation) failed: \(message)"
    }
}
