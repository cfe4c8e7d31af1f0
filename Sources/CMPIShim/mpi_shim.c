// See include/CMPIShim.h. Nothing here decides anything: each function converts its handle,
// makes one MPI call (or a few, for counts beyond INT_MAX) and returns MPI's code.
#define _GNU_SOURCE
#include "CMPIShim.h"

#include <limits.h>
#include <sched.h>
#include <string.h>
#include <mpi.h>

int smis_mpi_is_initialized(void) {
    int flag = 0;
    MPI_Initialized(&flag);
    return flag;
}

int smis_mpi_initialize(int *provided, int *multiple) {
    int code = MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, provided);
    if (code != MPI_SUCCESS) return code;
    *multiple = *provided == MPI_THREAD_MULTIPLE;
    return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

int smis_mpi_world(void) { return (int)MPI_Comm_c2f(MPI_COMM_WORLD); }

static MPI_Comm handle(int communicator) { return MPI_Comm_f2c((MPI_Fint)communicator); }

int smis_mpi_rank(int communicator, int *rank) { return MPI_Comm_rank(handle(communicator), rank); }

int smis_mpi_size(int communicator, int *size) { return MPI_Comm_size(handle(communicator), size); }

int smis_mpi_duplicate(int communicator, int *duplicate) {
    MPI_Comm copy;
    int code = MPI_Comm_dup(handle(communicator), &copy);
    if (code == MPI_SUCCESS) *duplicate = (int)MPI_Comm_c2f(copy);
    return code;
}

// MPI counts are ints: larger arrays go in pieces of at most INT_MAX elements.
static int sum_in_pieces(int communicator, char *values, int64_t count, MPI_Datatype type, size_t size) {
    while (count > 0) {
        int piece = count > INT_MAX ? INT_MAX : (int)count;
        int code = MPI_Allreduce(MPI_IN_PLACE, values, piece, type, MPI_SUM, handle(communicator));
        if (code != MPI_SUCCESS) return code;
        values += (size_t)piece * size;
        count -= piece;
    }
    return MPI_SUCCESS;
}

int smis_mpi_sum_float(int communicator, float *values, int64_t count) {
    return sum_in_pieces(communicator, (char *)values, count, MPI_FLOAT, sizeof(float));
}

int smis_mpi_sum_double(int communicator, double *values, int64_t count) {
    return sum_in_pieces(communicator, (char *)values, count, MPI_DOUBLE, sizeof(double));
}

int smis_mpi_max_int64(int communicator, int64_t *values, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_INT64_T, MPI_MAX, handle(communicator));
}

int smis_mpi_min_int64(int communicator, int64_t *values, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_INT64_T, MPI_MIN, handle(communicator));
}

int smis_mpi_broadcast(int communicator, void *bytes, int64_t count, int root) {
    char *cursor = bytes;
    while (count > 0) {
        int piece = count > INT_MAX ? INT_MAX : (int)count;
        int code = MPI_Bcast(cursor, piece, MPI_BYTE, root, handle(communicator));
        if (code != MPI_SUCCESS) return code;
        cursor += piece;
        count -= piece;
    }
    return MPI_SUCCESS;
}

int smis_mpi_barrier(int communicator) { return MPI_Barrier(handle(communicator)); }

void smis_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

int smis_mpi_finalize(void) { return MPI_Finalize(); }

void smis_mpi_error_string(int code, char *buffer, int capacity) {
    if (capacity <= 0) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) length = 0;
    text[length < MPI_MAX_ERROR_STRING ? length : MPI_MAX_ERROR_STRING - 1] = '\0';
    if (length == 0) strcpy(text, "unknown MPI error");
    strncpy(buffer, text, (size_t)capacity - 1);
    buffer[capacity - 1] = '\0';
}

void smis_mpi_library_version(char *buffer, int capacity) {
    if (capacity <= 0) return;
    char text[MPI_MAX_LIBRARY_VERSION_STRING];
    int length = 0;
    if (MPI_Get_library_version(text, &length) != MPI_SUCCESS) length = 0;
    text[length < MPI_MAX_LIBRARY_VERSION_STRING ? length : MPI_MAX_LIBRARY_VERSION_STRING - 1] = '\0';
    char *newline = strchr(text, '\n');
    if (newline) *newline = '\0';
    strncpy(buffer, text, (size_t)capacity - 1);
    buffer[capacity - 1] = '\0';
}

int smis_allowed_cpu_count(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
    return CPU_COUNT(&set);
}
