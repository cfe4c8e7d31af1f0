import Distributed
import XCTest

/// SwiftPM only warns when pkg-config cannot find `ompi-c` and builds on: check that the
/// library linked is Open MPI, callable without a launcher.
final class MPILinkTests: XCTestCase {
    func testOpenMPIIsLinked() {
        let version = MPIWorld.linkedLibraryVersion
        XCTAssertTrue(version.hasPrefix("Open MPI v"), version)
        XCTAssertNotNil(LaunchEnvironment.allowedCoreCount(), "sched_getaffinity through the shim")
    }
}
