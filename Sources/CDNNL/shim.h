// oneDNN's C API (Debian's libdnnl-dev 2.6, which ships no pkg-config file; the headers live in
// /usr/include/oneapi/dnnl). Its CPU runtime is OpenMP (libgomp), whose thread count the Tensor
// target sets before each call: the two OpenMP entry points it uses are declared here, since
// omp.h lives in GCC's private include folder.
#include <oneapi/dnnl/dnnl.h>

int omp_get_max_threads(void);
void omp_set_num_threads(int count);
