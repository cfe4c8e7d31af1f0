#ifndef CMPI_SHIM_H
#define CMPI_SHIM_H
// The few MPI calls data-parallel training makes, as plain C functions over ints and
// pointers. MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM and the like are macros or link-time handles
// that Swift cannot name, so Swift sees communicators as Fortran integer handles
// (MPI_Comm_c2f), which are portable and trivially copied. Every function returns MPI's error
// code (0 is MPI_SUCCESS): the world communicator's error handler is MPI_ERRORS_RETURN, so a
// failure comes back to the caller instead of ending the process.
#include <stdint.h>

/// Whether MPI_Init has run (1) or not (0).
int smis_mpi_is_initialized(void);

/// MPI_Init_thread with MPI_THREAD_MULTIPLE requested (training calls MPI from its main
/// thread and from one gradient thread, on separate communicators), then MPI_ERRORS_RETURN on
/// MPI_COMM_WORLD. `provided` receives the level granted; `multiple` receives 1 when it is
/// MPI_THREAD_MULTIPLE.
int smis_mpi_initialize(int *provided, int *multiple);

/// MPI_COMM_WORLD as a Fortran handle.
int smis_mpi_world(void);

int smis_mpi_rank(int communicator, int *rank);
int smis_mpi_size(int communicator, int *size);

/// A new communicator over the same processes (MPI_Comm_dup), with its own ordering of
/// collectives; it inherits MPI_ERRORS_RETURN.
int smis_mpi_duplicate(int communicator, int *duplicate);

/// In-place sums over every process; every process receives the same values. Counts beyond
/// INT_MAX are sent in pieces.
int smis_mpi_sum_float(int communicator, float *values, int64_t count);
int smis_mpi_sum_double(int communicator, double *values, int64_t count);

/// In-place element-wise maximum and minimum of 64-bit integers.
int smis_mpi_max_int64(int communicator, int64_t *values, int count);
int smis_mpi_min_int64(int communicator, int64_t *values, int count);

/// `count` bytes from process `root` to every process.
int smis_mpi_broadcast(int communicator, void *bytes, int64_t count, int root);

int smis_mpi_barrier(int communicator);

/// MPI_Abort on MPI_COMM_WORLD: the launcher ends every process of the job with `code`.
void smis_mpi_abort(int code);

int smis_mpi_finalize(void);

/// MPI's description of `code` into `buffer` (always NUL-terminated).
void smis_mpi_error_string(int code, char *buffer, int capacity);

/// MPI_Get_library_version into `buffer`, first line only (always NUL-terminated).
void smis_mpi_library_version(char *buffer, int capacity);

/// The number of CPUs in this process's affinity mask (sched_getaffinity, which Swift's Glibc
/// module does not expose), or -1 when it cannot be read. Not MPI: it lives here as the C of the
/// same target, for the threads a rank defaults to.
int smis_allowed_cpu_count(void);

#endif
