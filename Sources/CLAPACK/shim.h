// The one LAPACK routine the toolkit calls, from OpenBLAS (Debian's libopenblas exports the
// Fortran LAPACK symbols, but its packages ship no LAPACK header in the openblas-pthread
// include folder). Fortran convention: every argument by pointer, column-major arrays.
// dsyevd: eigenvalues (ascending) and, with jobz = 'V', orthonormal eigenvectors of a real
// symmetric matrix, by divide and conquer. Used by Evaluation's Fréchet distance.
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info);
