// Packing of GEMM panels for AVX2 + FMA and AVX-512 (CKernels.h, `ck_pack_panels_*`);
// `packPanels` in Autodiff/Kernels/GEMM.swift is the reference the tests hold it to (the
// same values, bit for bit: packing only copies).
//
// A panel interleaves `w` lanes (rows of op(A), or columns of op(B)) step by step along
// the depth: dst[q w + r] = src[q step + r lane]. When the lanes are contiguous (lane = 1)
// a step is a vector copy; when the steps are (step = 1: rows of A, or columns of Bᵀ, read
// along their length) blocks of W lanes × W steps are transposed in registers, where the
// scalar loop wrote one value per cycle to addresses w values apart.
#include "CKernels.h"
#include "Vectors.h"

#if defined(__x86_64__)

// y[j][r] = x[r][j] for a W x W block held in W vectors.
#define CK_TRANSPOSE4(x, y)                                                                 \
  {                                                                                         \
    ck_d4 a0 = __builtin_shufflevector(x[0], x[1], 0, 4, 2, 6);                             \
    ck_d4 a1 = __builtin_shufflevector(x[0], x[1], 1, 5, 3, 7);                             \
    ck_d4 a2 = __builtin_shufflevector(x[2], x[3], 0, 4, 2, 6);                             \
    ck_d4 a3 = __builtin_shufflevector(x[2], x[3], 1, 5, 3, 7);                             \
    y[0] = __builtin_shufflevector(a0, a2, 0, 1, 4, 5);                                     \
    y[1] = __builtin_shufflevector(a1, a3, 0, 1, 4, 5);                                     \
    y[2] = __builtin_shufflevector(a0, a2, 2, 3, 6, 7);                                     \
    y[3] = __builtin_shufflevector(a1, a3, 2, 3, 6, 7);                                     \
  }

#define CK_TRANSPOSE8(x, y)                                                                 \
  {                                                                                         \
    ck_d8 a[8], b[8];                                                                       \
    for (int i = 0; i < 8; i += 2) {                                                        \
      a[i] = __builtin_shufflevector(x[i], x[i + 1], 0, 8, 2, 10, 4, 12, 6, 14);            \
      a[i + 1] = __builtin_shufflevector(x[i], x[i + 1], 1, 9, 3, 11, 5, 13, 7, 15);        \
    }                                                                                       \
    for (int i = 0; i < 8; i += 4) {                                                        \
      b[i] = __builtin_shufflevector(a[i], a[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);             \
      b[i + 2] = __builtin_shufflevector(a[i], a[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);       \
      b[i + 1] = __builtin_shufflevector(a[i + 1], a[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);     \
      b[i + 3] = __builtin_shufflevector(a[i + 1], a[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);   \
    }                                                                                       \
    for (int j = 0; j < 4; j++) {                                                           \
      y[j] = __builtin_shufflevector(b[j], b[j + 4], 0, 1, 2, 3, 8, 9, 10, 11);             \
      y[j + 4] = __builtin_shufflevector(b[j], b[j + 4], 4, 5, 6, 7, 12, 13, 14, 15);       \
    }                                                                                       \
  }

#define CK_PACK_PANELS(NAME, TARGET, V, VU, W, TRANSPOSE)                                   \
  TARGET void NAME(const double *src, long step, long lane, long lanes, long w, long kc,    \
                   double *dst) {                                                           \
    if (lane == 1) {                                                                        \
      /* Step by step across all panels: the source is read along its rows, in order. */   \
      for (long q = 0; q < kc; q++) {                                                       \
        const double *from = src + q * step;                                                \
        for (long first = 0; first < lanes; first += w) {                                   \
          const long count = lanes - first < w ? lanes - first : w;                         \
          double *to = dst + first * kc + q * w;                                            \
          long i = 0;                                                                       \
          for (; i + W <= count; i += W) *(VU *)(to + i) = *(const VU *)(from + first + i); \
          for (; i < count; i++) to[i] = from[first + i];                                   \
          for (; i < w; i++) to[i] = 0;                                                     \
        }                                                                                   \
      }                                                                                     \
      return;                                                                               \
    }                                                                                       \
    for (long first = 0; first < lanes; first += w) {                                       \
      const long count = lanes - first < w ? lanes - first : w;                             \
      const double *s = src + first * lane;                                                 \
      double *d = dst + first * kc;                                                         \
      long r = 0;                                                                           \
      if (step == 1) {                                                                      \
        for (; r + W <= count; r += W) {                                                    \
          long q = 0;                                                                       \
          for (; q + W <= kc; q += W) {                                                     \
            V x[W], y[W];                                                                   \
            for (int i = 0; i < W; i++) x[i] = *(const VU *)(s + (r + i) * lane + q);      \
            TRANSPOSE(x, y)                                                                 \
            for (int j = 0; j < W; j++) *(VU *)(d + (q + j) * w + r) = y[j];                \
          }                                                                                 \
          for (; q < kc; q++)                                                               \
            for (int i = 0; i < W; i++) d[q * w + r + i] = s[(r + i) * lane + q];           \
        }                                                                                   \
      }                                                                                     \
      /* The lanes left (fewer than W, or any stride), then zeros up to w. */               \
      for (long q = 0; q < kc; q++) {                                                       \
        for (long i = r; i < count; i++) d[q * w + i] = s[q * step + i * lane];             \
        for (long i = count; i < w; i++) d[q * w + i] = 0;                                  \
      }                                                                                     \
    }                                                                                       \
  }

CK_PACK_PANELS(ck_pack_panels_avx2, CK_AVX2, ck_d4, ck_d4u, 4, CK_TRANSPOSE4)
CK_PACK_PANELS(ck_pack_panels_avx512, CK_AVX512, ck_d8, ck_d8u, 8, CK_TRANSPOSE8)
CK_PACK_PANELS(ck_pack_panels_8_on_avx2, CK_AVX2, ck_d8, ck_d8u, 8, CK_TRANSPOSE8)

#else  // Not x86-64: never called (ck_cpu_supports returns 0 for these paths).

void ck_pack_panels_avx2(const double *src, long step, long lane, long lanes, long w, long kc, double *dst) {}
void ck_pack_panels_avx512(const double *src, long step, long lane, long lanes, long w, long kc, double *dst) {}
void ck_pack_panels_8_on_avx2(const double *src, long step, long lane, long lanes, long w, long kc, double *dst) {}

#endif
