// OpenBLAS's CBLAS interface. The include path comes from pkg-config `openblas`
// (Debian: /usr/include/x86_64-linux-gnu/openblas-pthread/). We deliberately do not use the
// `blas` pkg-config name: it follows Debian's alternatives and may resolve to the slow
// reference BLAS without any warning.
#include <cblas.h>
