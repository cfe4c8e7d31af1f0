// Open MPI's C API, found through pkg-config (ompi-c). Only CMPIShim includes it: MPI's
// communicators, datatypes and operations are macros and handles that Swift cannot use.
#include <mpi.h>
