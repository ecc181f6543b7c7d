// GEMM micro-kernels and matrix-vector products for AVX2 + FMA and AVX-512
// (CKernels.h). The Swift side (Autodiff/Kernels/GEMM.swift) packs the panels, blocks for
// the caches and splits across cores; these are the innermost loops only, and
// GEMM.swift's SIMD2 loops are their reference.
//
// Each kernel is written once, as a macro over the vector type, its width W, the tile
// height MR and the number NV of vectors across the tile (NR = NV W), and instantiated
// per instruction set. `acc += a * b` is contracted to one FMA (clang's default
// -ffp-contract=on), so results differ from the reference's separate multiply and add in
// the last bits only. The 8 × 24 AVX-512 tile is also instantiated for AVX2, so that the
// tests exercise its logic on machines without AVX-512.
#include "CKernels.h"
#include "Vectors.h"

#if defined(__x86_64__)

#define CK_GEMM_KERNEL(NAME, TARGET, V, VU, W, MR, NV)                                      \
  TARGET void NAME(long kc, const double *a, const double *b, double *c, long ldc,          \
                   int accumulate) {                                                        \
    V acc[MR][NV];                                                                          \
    for (int i = 0; i < MR; i++)                                                            \
      for (int j = 0; j < NV; j++) acc[i][j] = (V){0};                                      \
    for (long p = 0; p < kc; p++) {                                                         \
      V bv[NV];                                                                             \
      for (int j = 0; j < NV; j++) bv[j] = *(const VU *)(b + j * W);                        \
      for (int i = 0; i < MR; i++) {                                                        \
        double s = a[i];                                                                    \
        for (int j = 0; j < NV; j++) acc[i][j] += s * bv[j];                                \
      }                                                                                     \
      a += MR;                                                                              \
      b += NV * W;                                                                          \
    }                                                                                       \
    for (int i = 0; i < MR; i++) {                                                          \
      double *row = c + i * ldc;                                                            \
      for (int j = 0; j < NV; j++) {                                                        \
        V v = acc[i][j];                                                                    \
        if (accumulate) v += *(VU *)(row + j * W);                                          \
        *(VU *)(row + j * W) = v;                                                           \
      }                                                                                     \
    }                                                                                       \
  }

CK_GEMM_KERNEL(ck_gemm_6x8_avx2, CK_AVX2, ck_d4, ck_d4u, 4, 6, 2)
CK_GEMM_KERNEL(ck_gemm_8x24_avx512, CK_AVX512, ck_d8, ck_d8u, 8, 8, 3)
CK_GEMM_KERNEL(ck_gemm_8x24_on_avx2, CK_AVX2, ck_d8, ck_d8u, 8, 8, 3)

// y[i] = M[i, :] · x, four rows at a time so that each load of x serves four rows; two
// accumulators per row keep eight addition chains in flight.
// The sums of the lanes of four vectors, as one 4-wide vector (a tree of shuffles instead
// of four chains of W - 1 dependent additions).
#define CK_REDUCE4_4(a, b, c, d, out)                                                       \
  {                                                                                         \
    ck_d4 ab = __builtin_shufflevector(a, b, 0, 4, 2, 6) + __builtin_shufflevector(a, b, 1, 5, 3, 7); \
    ck_d4 cd = __builtin_shufflevector(c, d, 0, 4, 2, 6) + __builtin_shufflevector(c, d, 1, 5, 3, 7); \
    out = __builtin_shufflevector(ab, cd, 0, 1, 4, 5) + __builtin_shufflevector(ab, cd, 2, 3, 6, 7); \
  }
#define CK_HALVES(v) (__builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7))
#define CK_REDUCE4_8(a, b, c, d, out) CK_REDUCE4_4(CK_HALVES(a), CK_HALVES(b), CK_HALVES(c), CK_HALVES(d), out)

#define CK_GEMV_ROWS(NAME, TARGET, V, VI, VU, W, REDUCE4)                                       \
  TARGET void NAME(long row0, long row1, long k, const double *m, const double *x,          \
                   double *y) {                                                             \
    /* The last k mod W columns as the lanes of a vector ending at k, the lanes before */   \
    /* them masked to zero in both x and the row (0 * inf would be NaN): a whole vector */  \
    /* instead of a scalar tail per row. */                                                 \
    const long tail = k % W;                                                                \
    const long body = k - tail;                                                             \
    V xt = {0};                                                                             \
    VI keep = {0};                                                                          \
    if (tail > 0 && k >= W)                                                                 \
      for (long l = W - tail; l < W; l++) {                                                 \
        xt[l] = x[k - W + l];                                                               \
        keep[l] = -1;                                                                       \
      }                                                                                     \
    const int vectorTail = tail > 0 && k >= W;                                              \
    long i = row0;                                                                          \
    /* k not a multiple of W: rows i, i + s, i + 2s, i + 3s (s the least with s k a */      \
    /* multiple of W) start at the same place in a W-value line, so four of them at a */    \
    /* time are read in aligned loads from their first line on (a load across two cache */  \
    /* lines costs two: rows of 100 values alternate between the halves of a line). The */  \
    /* values before that line and after the last whole vector go one at a time (so a */    \
    /* row's sum is rounded according to where it starts in a line: a view may differ in */ \
    /* its last bits from a copy, as sums already differed with the threads' split). */      \
    long s = 1;                                                                             \
    while ((s * k) % W != 0) s++;                                                           \
    for (; s > 1 && k >= 2 * W && i + 4 * s <= row1; i += 4 * s) {                          \
      for (long c = 0; c < s; c++) {                                                        \
        const double *r0 = m + (i + c) * k, *r1 = r0 + s * k, *r2 = r1 + s * k, *r3 = r2 + s * k; \
        long h = (W - (long)(((uintptr_t)r0 / sizeof(double)) % W)) % W;                    \
        if (h > k) h = k;                                                                   \
        double t0 = 0, t1 = 0, t2 = 0, t3 = 0;                                              \
        for (long q = 0; q < h; q++) {                                                      \
          double v = x[q];                                                                  \
          t0 += r0[q] * v;                                                                  \
          t1 += r1[q] * v;                                                                  \
          t2 += r2[q] * v;                                                                  \
          t3 += r3[q] * v;                                                                  \
        }                                                                                   \
        V s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, u0 = {0}, u1 = {0}, u2 = {0}, u3 = {0};   \
        long q = h;                                                                         \
        for (; q + 2 * W <= k; q += 2 * W) {                                                \
          V v = *(const VU *)(x + q), w = *(const VU *)(x + q + W);                         \
          s0 += *(const VU *)(r0 + q) * v;                                                   \
          u0 += *(const VU *)(r0 + q + W) * w;                                               \
          s1 += *(const VU *)(r1 + q) * v;                                                   \
          u1 += *(const VU *)(r1 + q + W) * w;                                               \
          s2 += *(const VU *)(r2 + q) * v;                                                   \
          u2 += *(const VU *)(r2 + q + W) * w;                                               \
          s3 += *(const VU *)(r3 + q) * v;                                                   \
          u3 += *(const VU *)(r3 + q + W) * w;                                               \
        }                                                                                   \
        if (q + W <= k) {                                                                   \
          V v = *(const VU *)(x + q);                                                       \
          s0 += *(const VU *)(r0 + q) * v;                                                   \
          s1 += *(const VU *)(r1 + q) * v;                                                   \
          s2 += *(const VU *)(r2 + q) * v;                                                   \
          s3 += *(const VU *)(r3 + q) * v;                                                   \
          q += W;                                                                           \
        }                                                                                   \
        for (; q < k; q++) {                                                                \
          double v = x[q];                                                                  \
          t0 += r0[q] * v;                                                                  \
          t1 += r1[q] * v;                                                                  \
          t2 += r2[q] * v;                                                                  \
          t3 += r3[q] * v;                                                                  \
        }                                                                                   \
        ck_d4 t;                                                                            \
        REDUCE4(s0 + u0, s1 + u1, s2 + u2, s3 + u3, t)                                      \
        y[i + c] = t[0] + t0;                                                               \
        y[i + c + s] = t[1] + t1;                                                           \
        y[i + c + 2 * s] = t[2] + t2;                                                       \
        y[i + c + 3 * s] = t[3] + t3;                                                       \
      }                                                                                     \
    }                                                                                       \
    for (; i + 4 <= row1; i += 4) {                                                         \
      const double *r0 = m + i * k, *r1 = r0 + k, *r2 = r1 + k, *r3 = r2 + k;               \
      V s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, u0 = {0}, u1 = {0}, u2 = {0}, u3 = {0};     \
      long q = 0;                                                                           \
      for (; q + 2 * W <= body; q += 2 * W) {                                               \
        V v = *(const VU *)(x + q), w = *(const VU *)(x + q + W);                           \
        s0 += *(const VU *)(r0 + q) * v;                                                    \
        u0 += *(const VU *)(r0 + q + W) * w;                                                \
        s1 += *(const VU *)(r1 + q) * v;                                                    \
        u1 += *(const VU *)(r1 + q + W) * w;                                                \
        s2 += *(const VU *)(r2 + q) * v;                                                    \
        u2 += *(const VU *)(r2 + q + W) * w;                                                \
        s3 += *(const VU *)(r3 + q) * v;                                                    \
        u3 += *(const VU *)(r3 + q + W) * w;                                                \
      }                                                                                     \
      if (q + W <= body) {                                                                  \
        V v = *(const VU *)(x + q);                                                         \
        s0 += *(const VU *)(r0 + q) * v;                                                    \
        s1 += *(const VU *)(r1 + q) * v;                                                    \
        s2 += *(const VU *)(r2 + q) * v;                                                    \
        s3 += *(const VU *)(r3 + q) * v;                                                    \
        q += W;                                                                             \
      }                                                                                     \
      if (vectorTail) {                                                                     \
        u0 += (V)((VI) * (const VU *)(r0 + k - W) & keep) * xt;                                               \
        u1 += (V)((VI) * (const VU *)(r1 + k - W) & keep) * xt;                                               \
        u2 += (V)((VI) * (const VU *)(r2 + k - W) & keep) * xt;                                               \
        u3 += (V)((VI) * (const VU *)(r3 + k - W) & keep) * xt;                                               \
        q = k;                                                                              \
      }                                                                                     \
      ck_d4 t;                                                                              \
      REDUCE4(s0 + u0, s1 + u1, s2 + u2, s3 + u3, t)                                        \
      for (; q < k; q++) {                                                                  \
        double v = x[q];                                                                    \
        t[0] += r0[q] * v;                                                                  \
        t[1] += r1[q] * v;                                                                  \
        t[2] += r2[q] * v;                                                                  \
        t[3] += r3[q] * v;                                                                  \
      }                                                                                     \
      *(ck_d4u *)(y + i) = t;                                                               \
    }                                                                                       \
    for (; i < row1; i++) {                                                                 \
      const double *r0 = m + i * k;                                                         \
      V s0 = {0}, s1 = {0};                                                                 \
      long q = 0;                                                                           \
      for (; q + 2 * W <= k; q += 2 * W) {                                                  \
        s0 += *(const VU *)(r0 + q) * *(const VU *)(x + q);                                 \
        s1 += *(const VU *)(r0 + q + W) * *(const VU *)(x + q + W);                         \
      }                                                                                     \
      s0 += s1;                                                                             \
      double t = 0;                                                                         \
      for (int l = 0; l < W; l++) t += s0[l];                                               \
      for (; q < k; q++) t += r0[q] * x[q];                                                 \
      y[i] = t;                                                                             \
    }                                                                                       \
  }

CK_GEMV_ROWS(ck_gemv_rows_avx2, CK_AVX2, ck_d4, ck_i4, ck_d4u, 4, CK_REDUCE4_4)
CK_GEMV_ROWS(ck_gemv_rows_avx512, CK_AVX512, ck_d8, ck_i8, ck_d8u, 8, CK_REDUCE4_8)
CK_GEMV_ROWS(ck_gemv_rows_8_on_avx2, CK_AVX2, ck_d8, ck_i8, ck_d8u, 8, CK_REDUCE4_8)

// y[j] = Σ_p M[p, j] x[p]: strips of 4 W columns of y stay in registers while a block of
// rows (about 256 KB, in L2) streams past; y is read and written once per block.
#define CK_GEMV_TRANSPOSED(NAME, TARGET, V, VU, W)                                          \
  TARGET void NAME(long col0, long col1, long k, long ld, const double *m, const double *x,  \
                   double *y) {                                                             \
    long block = 32768 / (ld > 0 ? ld : 1);                                                 \
    block = block < 8 ? 8 : (block > 512 ? 512 : block);                                    \
    for (long p0 = 0; p0 < k; p0 += block) {                                                \
      long p1 = p0 + block < k ? p0 + block : k;                                            \
      int first = p0 == 0;                                                                  \
      long j = col0;                                                                        \
      /* Strips of 4 W columns; even and odd rows in separate accumulators, so that the */  \
      /* chains of dependent additions are half as long. */                                 \
      for (; j + 4 * W <= col1; j += 4 * W) {                                               \
        V s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, u0 = {0}, u1 = {0}, u2 = {0}, u3 = {0};   \
        if (!first) {                                                                       \
          s0 = *(VU *)(y + j);                                                              \
          s1 = *(VU *)(y + j + W);                                                          \
          s2 = *(VU *)(y + j + 2 * W);                                                      \
          s3 = *(VU *)(y + j + 3 * W);                                                      \
        }                                                                                   \
        const double *r = m + p0 * ld + j;                                                  \
        long p = p0;                                                                        \
        for (; p + 2 <= p1; p += 2, r += 2 * ld) {                                          \
          double v = x[p], w = x[p + 1];                                                    \
          s0 += *(const VU *)(r) * v;                                                       \
          s1 += *(const VU *)(r + W) * v;                                                   \
          s2 += *(const VU *)(r + 2 * W) * v;                                               \
          s3 += *(const VU *)(r + 3 * W) * v;                                               \
          u0 += *(const VU *)(r + ld) * w;                                                  \
          u1 += *(const VU *)(r + ld + W) * w;                                              \
          u2 += *(const VU *)(r + ld + 2 * W) * w;                                          \
          u3 += *(const VU *)(r + ld + 3 * W) * w;                                          \
        }                                                                                   \
        if (p < p1) {                                                                       \
          double v = x[p];                                                                  \
          s0 += *(const VU *)(r) * v;                                                       \
          s1 += *(const VU *)(r + W) * v;                                                   \
          s2 += *(const VU *)(r + 2 * W) * v;                                               \
          s3 += *(const VU *)(r + 3 * W) * v;                                               \
        }                                                                                   \
        *(VU *)(y + j) = s0 + u0;                                                           \
        *(VU *)(y + j + W) = s1 + u1;                                                       \
        *(VU *)(y + j + 2 * W) = s2 + u2;                                                   \
        *(VU *)(y + j + 3 * W) = s3 + u3;                                                   \
      }                                                                                     \
      /* Single vectors; the last fewer than W columns as the lanes of a vector that ends */ \
      /* at col1 (reading, not writing, columns before them). */                            \
      while (j < col1 && col1 >= W) {                                                       \
        long start = j + W <= col1 ? j : col1 - W;                                          \
        V s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};                                           \
        const double *r = m + p0 * ld + start;                                              \
        long p = p0;                                                                        \
        for (; p + 4 <= p1; p += 4, r += 4 * ld) {                                          \
          s0 += *(const VU *)(r) * x[p];                                                    \
          s1 += *(const VU *)(r + ld) * x[p + 1];                                           \
          s2 += *(const VU *)(r + 2 * ld) * x[p + 2];                                       \
          s3 += *(const VU *)(r + 3 * ld) * x[p + 3];                                       \
        }                                                                                   \
        for (; p < p1; p++, r += ld) s0 += *(const VU *)(r) * x[p];                         \
        s0 = (s0 + s1) + (s2 + s3);                                                         \
        for (long l = j - start; l < W; l++) y[start + l] = first ? s0[l] : y[start + l] + s0[l]; \
        j = start + W;                                                                      \
      }                                                                                     \
      for (; j < col1; j++) {                                                               \
        double t0 = 0, t1 = 0;                                                              \
        const double *r = m + p0 * ld + j;                                                  \
        long p = p0;                                                                        \
        for (; p + 2 <= p1; p += 2, r += 2 * ld) {                                          \
          t0 += r[0] * x[p];                                                                \
          t1 += r[ld] * x[p + 1];                                                           \
        }                                                                                   \
        if (p < p1) t0 += r[0] * x[p];                                                      \
        y[j] = first ? t0 + t1 : y[j] + (t0 + t1);                                          \
      }                                                                                     \
    }                                                                                       \
  }

CK_GEMV_TRANSPOSED(ck_gemv_transposed_avx2, CK_AVX2, ck_d4, ck_d4u, 4)
CK_GEMV_TRANSPOSED(ck_gemv_transposed_avx512, CK_AVX512, ck_d8, ck_d8u, 8)
CK_GEMV_TRANSPOSED(ck_gemv_transposed_8_on_avx2, CK_AVX2, ck_d8, ck_d8u, 8)

// y1[i] = M[i, :] · x1 and y2[i] = M[i, :] · x2, two rows at a time: each load of the
// matrix serves both vectors (four accumulators in flight).
#define CK_GEMV2_ROWS(NAME, TARGET, V, VU, W)                                               \
  TARGET void NAME(long row0, long row1, long k, const double *m, const double *x1,         \
                   const double *x2, double *y1, double *y2) {                              \
    long i = row0;                                                                          \
    for (; i < row1; i += 2) {                                                              \
      const double *r0 = m + i * k;                                                         \
      const double *r1 = i + 1 < row1 ? r0 + k : r0; /* an odd last row: done twice */      \
      V a0 = {0}, b0 = {0}, a1 = {0}, b1 = {0};                                             \
      long q = 0;                                                                           \
      for (; q + W <= k; q += W) {                                                          \
        V u = *(const VU *)(x1 + q), v = *(const VU *)(x2 + q);                             \
        V m0 = *(const VU *)(r0 + q), m1 = *(const VU *)(r1 + q);                           \
        a0 += m0 * u;                                                                       \
        b0 += m0 * v;                                                                       \
        a1 += m1 * u;                                                                       \
        b1 += m1 * v;                                                                       \
      }                                                                                     \
      double ta0 = 0, tb0 = 0, ta1 = 0, tb1 = 0;                                            \
      for (int l = 0; l < W; l++) {                                                         \
        ta0 += a0[l];                                                                       \
        tb0 += b0[l];                                                                       \
        ta1 += a1[l];                                                                       \
        tb1 += b1[l];                                                                       \
      }                                                                                     \
      for (; q < k; q++) {                                                                  \
        ta0 += r0[q] * x1[q];                                                               \
        tb0 += r0[q] * x2[q];                                                               \
        ta1 += r1[q] * x1[q];                                                               \
        tb1 += r1[q] * x2[q];                                                               \
      }                                                                                     \
      y1[i] = ta0;                                                                          \
      y2[i] = tb0;                                                                          \
      if (i + 1 < row1) {                                                                   \
        y1[i + 1] = ta1;                                                                    \
        y2[i + 1] = tb1;                                                                    \
      }                                                                                     \
    }                                                                                       \
  }

CK_GEMV2_ROWS(ck_gemv2_rows_avx2, CK_AVX2, ck_d4, ck_d4u, 4)
CK_GEMV2_ROWS(ck_gemv2_rows_avx512, CK_AVX512, ck_d8, ck_d8u, 8)

// y1[j] = Σ_p M[p, j] x1[p] and y2[j] = Σ_p M[p, j] x2[p]: strips of 2 W columns of both
// stay in registers while a block of rows streams past, each load serving both.
#define CK_GEMV2_TRANSPOSED(NAME, TARGET, V, VU, W)                                         \
  TARGET void NAME(long col0, long col1, long k, long ld, const double *m, const double *x1, \
                   const double *x2, double *y1, double *y2) {                              \
    long block = 32768 / (ld > 0 ? ld : 1);                                                 \
    block = block < 8 ? 8 : (block > 512 ? 512 : block);                                    \
    for (long p0 = 0; p0 < k; p0 += block) {                                                \
      long p1 = p0 + block < k ? p0 + block : k;                                            \
      int first = p0 == 0;                                                                  \
      long j = col0;                                                                        \
      for (; j + 2 * W <= col1; j += 2 * W) {                                               \
        V a0 = {0}, a1 = {0}, b0 = {0}, b1 = {0};                                           \
        if (!first) {                                                                       \
          a0 = *(VU *)(y1 + j);                                                             \
          a1 = *(VU *)(y1 + j + W);                                                         \
          b0 = *(VU *)(y2 + j);                                                             \
          b1 = *(VU *)(y2 + j + W);                                                         \
        }                                                                                   \
        const double *r = m + p0 * ld + j;                                                  \
        for (long p = p0; p < p1; p++, r += ld) {                                           \
          double u = x1[p], v = x2[p];                                                      \
          V m0 = *(const VU *)(r), m1 = *(const VU *)(r + W);                               \
          a0 += m0 * u;                                                                     \
          a1 += m1 * u;                                                                     \
          b0 += m0 * v;                                                                     \
          b1 += m1 * v;                                                                     \
        }                                                                                   \
        *(VU *)(y1 + j) = a0;                                                               \
        *(VU *)(y1 + j + W) = a1;                                                           \
        *(VU *)(y2 + j) = b0;                                                               \
        *(VU *)(y2 + j + W) = b1;                                                           \
      }                                                                                     \
      for (; j < col1; j++) {                                                               \
        double t1 = 0, t2 = 0;                                                              \
        const double *r = m + p0 * ld + j;                                                  \
        for (long p = p0; p < p1; p++, r += ld) {                                           \
          t1 += r[0] * x1[p];                                                               \
          t2 += r[0] * x2[p];                                                               \
        }                                                                                   \
        y1[j] = first ? t1 : y1[j] + t1;                                                    \
        y2[j] = first ? t2 : y2[j] + t2;                                                    \
      }                                                                                     \
    }                                                                                       \
  }

CK_GEMV2_TRANSPOSED(ck_gemv2_transposed_avx2, CK_AVX2, ck_d4, ck_d4u, 4)
CK_GEMV2_TRANSPOSED(ck_gemv2_transposed_avx512, CK_AVX512, ck_d8, ck_d8u, 8)

// C(i, 0..<n) = Σ_p op(A)(i, p) B(p, 0..<n) for n ≤ 16, B packed k × 16: a block of R rows
// holds R × 16 accumulators, each step broadcasting R values of op(A) (read in place, at
// a[i lane + p step]) against the step's 16 values of B. No packing of A, and a padding of
// at most 16 − n columns where the 24-wide tile padded n = 10 to 24.
#define CK_NARROW_BLOCK(V, VU, W, R)                                                        \
  {                                                                                         \
    enum { NV = 16 / W };                                                                   \
    V acc[R][NV];                                                                           \
    for (int r = 0; r < R; r++)                                                             \
      for (int j = 0; j < NV; j++) acc[r][j] = (V){0};                                      \
    const double *rows = a + i * lane;                                                      \
    for (long p = 0; p < k; p++) {                                                          \
      V bv[NV];                                                                             \
      for (int j = 0; j < NV; j++) bv[j] = *(const VU *)(b + p * 16 + j * W);               \
      const double *column = rows + p * step;                                               \
      for (int r = 0; r < R; r++) {                                                         \
        double s = column[r * lane];                                                        \
        for (int j = 0; j < NV; j++) acc[r][j] += s * bv[j];                                \
      }                                                                                     \
    }                                                                                       \
    for (int r = 0; r < R; r++) {                                                           \
      double t[16];                                                                         \
      for (int j = 0; j < NV; j++) *(VU *)(t + j * W) = acc[r][j];                          \
      double *out = c + (i + r) * row_stride;                                               \
      for (long q = 0; q < n; q++) out[q * column_stride] = t[q];                           \
    }                                                                                       \
  }

#define CK_GEMM_NARROW(NAME, TARGET, V, VU, W, R)                                           \
  TARGET void NAME(long row0, long row1, long k, const double *a, long step, long lane,     \
                   const double *b, double *c, long row_stride, long column_stride, long n) { \
    long i = row0;                                                                          \
    for (; i + R <= row1; i += R) CK_NARROW_BLOCK(V, VU, W, R)                              \
    for (; i < row1; i++) CK_NARROW_BLOCK(V, VU, W, 1)                                      \
  }

CK_GEMM_NARROW(ck_gemm_narrow_avx2, CK_AVX2, ck_d4, ck_d4u, 4, 3)
CK_GEMM_NARROW(ck_gemm_narrow_avx512, CK_AVX512, ck_d8, ck_d8u, 8, 8)
CK_GEMM_NARROW(ck_gemm_narrow_8_on_avx2, CK_AVX2, ck_d8, ck_d8u, 8, 8)

#else  // Not x86-64: never called (ck_cpu_supports returns 0 for these paths).

void ck_gemm_6x8_avx2(long kc, const double *a, const double *b, double *c, long ldc, int accumulate) {}
void ck_gemm_8x24_avx512(long kc, const double *a, const double *b, double *c, long ldc, int accumulate) {}
void ck_gemm_8x24_on_avx2(long kc, const double *a, const double *b, double *c, long ldc, int accumulate) {}
void ck_gemv_rows_avx2(long row0, long row1, long k, const double *m, const double *x, double *y) {}
void ck_gemv_rows_avx512(long row0, long row1, long k, const double *m, const double *x, double *y) {}
void ck_gemv_transposed_avx2(long col0, long col1, long k, long ld, const double *m, const double *x, double *y) {}
void ck_gemv_transposed_avx512(long col0, long col1, long k, long ld, const double *m, const double *x, double *y) {}

void ck_gemv2_rows_avx2(long row0, long row1, long columns, const double *m, const double *x1, const double *x2,
                        double *y1, double *y2) {}
void ck_gemv2_rows_avx512(long row0, long row1, long columns, const double *m, const double *x1, const double *x2,
                          double *y1, double *y2) {}
void ck_gemv2_transposed_avx2(long col0, long col1, long rows, long ld, const double *m, const double *x1,
                              const double *x2, double *y1, double *y2) {}
void ck_gemv2_transposed_avx512(long col0, long col1, long rows, long ld, const double *m, const double *x1,
                                const double *x2, double *y1, double *y2) {}
void ck_gemm_narrow_avx2(long row0, long row1, long k, const double *a, long step, long lane, const double *b,
                         double *c, long row_stride, long column_stride, long n) {}
void ck_gemm_narrow_avx512(long row0, long row1, long k, const double *a, long step, long lane, const double *b,
                           double *c, long row_stride, long column_stride, long n) {}
void ck_gemm_narrow_8_on_avx2(long row0, long row1, long k, const double *a, long step, long lane, const double *b,
                              double *c, long row_stride, long column_stride, long n) {}
void ck_gemv_rows_8_on_avx2(long row0, long row1, long k, const double *m, const double *x, double *y) {}
void ck_gemv_transposed_8_on_avx2(long col0, long col1, long k, long ld, const double *m, const double *x, double *y) {}

#endif
