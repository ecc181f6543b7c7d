// The executor of fused elementwise programs for AVX2 + FMA and AVX-512 (CKernels.h,
// `ck_run_program_*`); the Swift executor in ElementwiseProgramKernel.swift is the reference
// the tests hold it to.
//
// Goals, in priority order: the reference's values (the same IEEE operations per value, the
// vector transcendental functions of VectorMath.c), then speed: one switch per step and
// block (not per value), each case a vector loop over a block that stays in L1.
#include <math.h>

// a b + c is two roundings here, as in the reference executor: no fused multiply-add.
#pragma clang fp contract(off)

#include "CKernels.h"
#include "Vectors.h"

#if defined(__x86_64__)

#define CK_LOOP(V, VU, W, EXPRESSION_V, EXPRESSION_1)                                       \
  {                                                                                         \
    long i = 0;                                                                             \
    for (; i + W <= n; i += W) {                                                            \
      V va = *(const VU *)(a + i);                                                          \
      V vb = *(const VU *)(b + i);                                                          \
      V vc = *(const VU *)(c + i);                                                          \
      (void)va;                                                                             \
      (void)vb;                                                                             \
      (void)vc;                                                                             \
      *(VU *)(y + i) = EXPRESSION_V;                                                        \
    }                                                                                       \
    for (; i < n; i++) {                                                                    \
      double sa = a[i];                                                                     \
      double sb = b[i];                                                                     \
      double sc = c[i];                                                                     \
      (void)sa;                                                                             \
      (void)sb;                                                                             \
      (void)sc;                                                                             \
      y[i] = EXPRESSION_1;                                                                  \
    }                                                                                       \
  }                                                                                         \
  break;

// The arithmetic steps, shared by a program's steps and `ck_elementwise_*`.
#define CK_ARITHMETIC_CASES(V, VU, W)                                                       \
  case CK_OP_ADD_VV: CK_LOOP(V, VU, W, va + vb, sa + sb)                                    \
  case CK_OP_SUB_VV: CK_LOOP(V, VU, W, va - vb, sa - sb)                                    \
  case CK_OP_MUL_VV: CK_LOOP(V, VU, W, va * vb, sa * sb)                                    \
  case CK_OP_DIV_VV: CK_LOOP(V, VU, W, va / vb, sa / sb)                                    \
  case CK_OP_ADD_VS: CK_LOOP(V, VU, W, va + vs, sa + s)                                     \
  case CK_OP_SUB_VS: CK_LOOP(V, VU, W, va - vs, sa - s)                                     \
  case CK_OP_MUL_VS: CK_LOOP(V, VU, W, va * vs, sa * s)                                     \
  case CK_OP_DIV_VS: CK_LOOP(V, VU, W, va / vs, sa / s)                                     \
  case CK_OP_SUB_SV: CK_LOOP(V, VU, W, vs - va, s - sa)                                     \
  case CK_OP_DIV_SV: CK_LOOP(V, VU, W, vs / va, s / sa)                                     \
  case CK_OP_NEGATE: CK_LOOP(V, VU, W, -va, -sa)                                            \
  case CK_OP_SQUARE: CK_LOOP(V, VU, W, va * va, sa * sa)

#define CK_PROGRAM(SUFFIX, TARGET, V, VI, VU, W, MAP)                                       \
  TARGET void ck_run_program_##SUFFIX(const ck_step *steps, long step_count, const ck_register *registers, \
                                      double **addresses, long register_count, long first, long count,        \
                                      long row_length, long block_size, double *sums) {     \
    for (long row = first; row < first + count; row += row_length) {                        \
      for (long start = 0; start < row_length; start += block_size) {                       \
        long offset = row + start;                                                          \
        long n = row_length - start < block_size ? row_length - start : block_size;         \
        for (long r = 0; r < register_count; r++) {                                         \
          long period = registers[r].period;                                                \
          addresses[r] = period < 0 ? registers[r].base                                     \
                                    : registers[r].base + (period == 0 ? offset : offset % period); \
        }                                                                                   \
        for (long k = 0; k < step_count; k++) {                                             \
          const ck_step step = steps[k];                                                    \
          double *y = addresses[step.destination];                                          \
          /* An absent operand reads the destination (never used). */                      \
          const double *a = step.a >= 0 ? addresses[step.a] : y;                            \
          const double *b = step.b >= 0 && step.op != CK_OP_MAP && step.op != CK_OP_SUM ? addresses[step.b] : a; \
          const double *c = step.c >= 0 ? addresses[step.c] : a;                            \
          const double s = step.scalar;                                                     \
          V vs; /* a splat: 0 + s would turn -0 into +0 */                                  \
          for (int j = 0; j < W; j++) vs[j] = s;                                            \
          (void)vs;                                                                         \
          switch (step.op) {                                                                \
            CK_ARITHMETIC_CASES(V, VU, W)                                                   \
            case CK_OP_SQRT:                                                                \
              for (long i = 0; i < n; i++) y[i] = sqrt(a[i]);                               \
              break;                                                                        \
            case CK_OP_ABS:                                                                 \
              CK_LOOP(V, VU, W, (V)((VI)va & 0x7fffffffffffffffLL), fabs(sa))               \
            case CK_OP_RELU:                                                                \
              for (long i = 0; i < n; i++) y[i] = a[i] > 0 ? a[i] : (a[i] == a[i] ? 0 : a[i]); \
              break;                                                                        \
            case CK_OP_SIGN:                                                                \
              for (long i = 0; i < n; i++) y[i] = a[i] > 0 ? 1 : (a[i] < 0 ? -1 : 0);       \
              break;                                                                        \
            case CK_OP_STEP:                                                                \
              for (long i = 0; i < n; i++) y[i] = a[i] > 0 ? 1 : 0;                         \
              break;                                                                        \
            case CK_OP_POW:                                                                 \
              for (long i = 0; i < n; i++) y[i] = pow(a[i], s);                             \
              break;                                                                        \
            case CK_OP_MAP: MAP(step.b, a, y, n); break;                                    \
            case CK_OP_COPY: CK_LOOP(V, VU, W, va, sa)                                      \
            case CK_OP_MUL_MUL_S: CK_LOOP(V, VU, W, (va * vb) * vs, (sa * sb) * s)          \
            case CK_OP_MUL_ADD: CK_LOOP(V, VU, W, va * vb + vc, sa * sb + sc)               \
            case CK_OP_MUL_SUB: CK_LOOP(V, VU, W, va * vb - vc, sa * sb - sc)               \
            case CK_OP_SUB_MUL: CK_LOOP(V, VU, W, vc - va * vb, sc - sa * sb)               \
            case CK_OP_MULS_ADD: CK_LOOP(V, VU, W, va * vs + vc, sa * s + sc)               \
            case CK_OP_MULS_SUB: CK_LOOP(V, VU, W, va * vs - vc, sa * s - sc)               \
            case CK_OP_SUM: {                                                               \
              V total = {0};                                                                \
              long i = 0;                                                                   \
              for (; i + W <= n; i += W) total += *(const VU *)(a + i);                     \
              double t = 0;                                                                 \
              for (long j = 0; j < W; j++) t += total[j];                                   \
              for (; i < n; i++) t += a[i];                                                 \
              sums[step.b] += t;                                                            \
              break;                                                                        \
            }                                                                               \
            default: /* CK_OP_FILL */                                                       \
              for (long i = 0; i < n; i++) y[i] = s;                                        \
              break;                                                                        \
          }                                                                                 \
        }                                                                                   \
      }                                                                                     \
    }                                                                                       \
  }

CK_PROGRAM(avx2, CK_AVX2, ck_d4, ck_i4, ck_d4u, 4, ck_map_avx2)
CK_PROGRAM(avx512, CK_AVX512, ck_d8, ck_i8, ck_d8u, 8, ck_map_avx512)

// One step over a whole array (`ck_elementwise_*`): the unfused primitives' kernels, the
// same loops as a program's steps. An operation it does not list leaves y unwritten
// (the caller only passes the ones below).
#define CK_ELEMENTWISE(SUFFIX, TARGET, V, VI, VU, W)                                        \
  TARGET void ck_elementwise_##SUFFIX(int op, const double *a, const double *b, double s, double *y, long n) { \
    const double *c = a;                                                                    \
    V vs; /* a splat: 0 + s would turn -0 into +0 */                                        \
    for (int j = 0; j < W; j++) vs[j] = s;                                                  \
    if (b == 0) b = a;                                                                      \
    switch (op) {                                                                           \
      CK_ARITHMETIC_CASES(V, VU, W)                                                         \
      case CK_OP_SMUL_MUL: CK_LOOP(V, VU, W, (vs * va) * vb, (s * sa) * sb)                 \
      default: break;                                                                       \
    }                                                                                       \
  }

CK_ELEMENTWISE(avx2, CK_AVX2, ck_d4, ck_i4, ck_d4u, 4)
CK_ELEMENTWISE(avx512, CK_AVX512, ck_d8, ck_i8, ck_d8u, 8)
CK_ELEMENTWISE(8_on_avx2, CK_AVX2, ck_d8, ck_i8, ck_d8u, 8)

// The product rule (s a) b + (s c) d in one pass: the JVP of a product (s = 1) or of a
// scaled product, which unfused is two products and a sum, three passes and two temporaries.
#define CK_PRODUCT_RULE(SUFFIX, TARGET, V, VU, W)                                           \
  TARGET void ck_product_rule_##SUFFIX(const double *a, const double *b, const double *c, const double *d, \
                                       double s, double *y, long n) {                       \
    V vs; /* a splat: 0 + s would turn -0 into +0 */                                        \
    for (int j = 0; j < W; j++) vs[j] = s;                                                  \
    long i = 0;                                                                             \
    for (; i + W <= n; i += W) {                                                            \
      V va = *(const VU *)(a + i);                                                          \
      V vb = *(const VU *)(b + i);                                                          \
      V vc = *(const VU *)(c + i);                                                          \
      V vd = *(const VU *)(d + i);                                                          \
      *(VU *)(y + i) = (vs * va) * vb + (vs * vc) * vd;                                     \
    }                                                                                       \
    for (; i < n; i++) y[i] = (s * a[i]) * b[i] + (s * c[i]) * d[i];                        \
  }

CK_PRODUCT_RULE(avx2, CK_AVX2, ck_d4, ck_d4u, 4)
CK_PRODUCT_RULE(avx512, CK_AVX512, ck_d8, ck_d8u, 8)
CK_PRODUCT_RULE(8_on_avx2, CK_AVX2, ck_d8, ck_d8u, 8)

#else  // Not x86-64: never called (ck_cpu_supports returns 0 for these paths).

void ck_run_program_avx2(const ck_step *steps, long step_count, const ck_register *registers, double **addresses,
                         long register_count, long first, long count, long row_length, long block_size,
                         double *sums) {}
void ck_run_program_avx512(const ck_step *steps, long step_count, const ck_register *registers, double **addresses,
                           long register_count, long first, long count, long row_length, long block_size,
                           double *sums) {}
void ck_elementwise_avx2(int op, const double *a, const double *b, double s, double *y, long n) {}
void ck_elementwise_avx512(int op, const double *a, const double *b, double s, double *y, long n) {}
void ck_elementwise_8_on_avx2(int op, const double *a, const double *b, double s, double *y, long n) {}
void ck_product_rule_avx2(const double *a, const double *b, const double *c, const double *d, double s, double *y,
                          long n) {}
void ck_product_rule_avx512(const double *a, const double *b, const double *c, const double *d, double s, double *y,
                            long n) {}
void ck_product_rule_8_on_avx2(const double *a, const double *b, const double *c, const double *d, double s,
                               double *y, long n) {}

#endif
