/* kernels.h - the instruction-set variants of the inner kernels
   (kernels.c), for cpu.c to choose from; nothing else includes this. */
#ifndef REC_KERNELS_H
#define REC_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define REC_HAVE_X86_KERNELS 1
#endif

/* out[j - j0] = x . Y[j] for rows [j0, j1) of the k-column matrix Y. */
typedef void (*rec_score_rows_fn)(float *out, const float *Y, int k,
                                  const float *x, size_t j0, size_t j1);
/* A += Z^T Z on the upper 8x8 tiles (see rec__gram_add). */
typedef void (*rec_gram_add_fn)(double *A, const float *Z, size_t n, int ld,
                                int kk);

/* Bit i of bits[i / 64] set when x[i] > t, for i < n. */
typedef void (*rec_above_fn)(uint64_t *bits, const float *x, size_t n,
                             float t);
/* The AUC count of one row (rec__auc_count). */
typedef uint64_t (*rec_auc_count_fn)(const float *a, size_t n,
                                     const float *pos, size_t np, float w,
                                     uint32_t *near, size_t *n_near);

/* The packed gather and Gram sums of one row (rec__gram_packed); 0 when
   the shape is not one the variant has. */
typedef int (*rec_gram_packed_fn)(double *A, int ld, const float *P,
                                  const int32_t *idx, const float *vals,
                                  float mu, size_t n, int m, size_t chunk);
/* The row Cholesky solve (rec__chol_solve). */
typedef int (*rec_chol_solve_fn)(double *A, int ld, double *b, int m);
/* One CG product of implicit ALS (rec__cg_apply). */
typedef void (*rec_cg_apply_fn)(float *q, const float *ytyf,
                                const float *diag, float lambda,
                                const float *Y, int k, const float *v,
                                const float *cw,
                                const float *cc, size_t n,
                                int minus_b);
/* Cosines of rows of Y with y0 (rec__cosine_rows). */
typedef void (*rec_cosine_rows_fn)(float *out, const float *Y, int k,
                                   const float *y0, float n0, size_t j0,
                                   size_t j1);

void rec__score_rows_portable(float *out, const float *Y, int k,
                              const float *x, size_t j0, size_t j1);
int rec__chol_solve_portable(double *A, int ld, double *b, int m);
void rec__cg_apply_portable(float *q, const float *ytyf, const float *diag,
                            float lambda,
                            const float *Y, int k, const float *v,
                            const float *cw,
                            const float *cc, size_t n,
                            int minus_b);
void rec__cosine_rows_portable(float *out, const float *Y, int k,
                               const float *y0, float n0, size_t j0,
                               size_t j1);
void rec__above_portable(uint64_t *bits, const float *x, size_t n, float t);
uint64_t rec__auc_count_portable(const float *a, size_t n, const float *pos,
                                 size_t np, float w, uint32_t *near,
                                 size_t *n_near);
void rec__gram_add_portable(double *A, const float *Z, size_t n, int ld,
                            int kk);
#ifdef REC_HAVE_X86_KERNELS
void rec__score_rows_avx2(float *out, const float *Y, int k, const float *x,
                          size_t j0, size_t j1);
void rec__gram_add_avx2(double *A, const float *Z, size_t n, int ld, int kk);
void rec__score_rows_avx512(float *out, const float *Y, int k,
                            const float *x, size_t j0, size_t j1);
void rec__gram_add_avx512(double *A, const float *Z, size_t n, int ld,
                          int kk);
int rec__chol_solve_avx2(double *A, int ld, double *b, int m);
int rec__chol_solve_avx512(double *A, int ld, double *b, int m);
int rec__gram_packed_avx512(double *A, int ld, const float *P,
                            const int32_t *idx, const float *vals, float mu,
                            size_t n, int m, size_t chunk);
void rec__cg_apply_avx2(float *q, const float *ytyf, const float *diag,
                        float lambda,
                        const float *Y, int k, const float *v,
                        const float *cw,
                        const float *cc, size_t n,
                        int minus_b);
void rec__cosine_rows_avx2(float *out, const float *Y, int k, const float *y0,
                           float n0, size_t j0, size_t j1);
void rec__above_avx2(uint64_t *bits, const float *x, size_t n, float t);
void rec__above_avx512(uint64_t *bits, const float *x, size_t n, float t);
uint64_t rec__auc_count_avx512(const float *a, size_t n, const float *pos,
                               size_t np, float w, uint32_t *near,
                               size_t *n_near);
#endif

#endif
