// Vectorized exp, log, log1p, sigmoid, softplus and tanh for AVX2 + FMA and AVX-512
// (CKernels.h, `ck_map_*`). glibc's functions are the reference the tests hold these to.
//
// Goals, in priority order: within 1 ulp of the correctly rounded result (2 for the
// compositions), C's special values (±0, ±inf, NaN, subnormal results and arguments),
// then speed: branch-free, so each vector lane runs the same instructions.
//
// - exp: x = k ln 2 + r, |r| ≤ ln 2 / 2 (Cody–Waite, two-part ln 2, k rounded with the
//   1.5 · 2^52 shifter), e^r = 1 + (r + r² P(r)) with the degree-13 Taylor polynomial
//   (truncation below 1e-17 relative), and 2^k applied as 2^⌊k/2⌋ · 2^(k − ⌊k/2⌋) so that
//   subnormal results are rounded once and the scale factors stay normal.
// - log: fdlibm's e_log.c (Sun Microsystems, 1993): x = 2^k m with m ∈ [√2/2, √2),
//   f = m − 1, s = f / (2 + f), log(1 + f) = f − s (f − R(s²))-style with the seven Lg
//   coefficients of its minimax R; subnormal x is scaled by 2^54 first.
// - log1p: u = 1 + x rounded, log(u) as above plus fdlibm's correction c / u with
//   c = (1 + x) − u computed exactly (s_log1p.c's scheme with e_log.c's polynomial).
// - sigmoid: e = exp(−|x|), 1 / (1 + e) for x ≥ 0 and e / (1 + e) otherwise.
// - softplus: max(x, 0) + log1p(exp(−|x|)), exact for large |x| and overflow-free.
// - tanh: sign(x) · (−e) / (2 + e) with e = e^(−2|x|) − 1 from exp's reduction and
//   polynomial (no cancellation near 0, exact ±1 beyond |x| = 20).
#include "CKernels.h"
#include "Vectors.h"

#if defined(__x86_64__)

#define CK_MATH(SUFFIX, TARGET, V, VI, VU, W)                                                \
  static inline TARGET __attribute__((always_inline)) V splat_##SUFFIX(double s) {          \
    V v; /* not 0 + s, which would turn -0 into +0 */                                       \
    for (int j = 0; j < W; j++) v[j] = s;                                                   \
    return v;                                                                               \
  }                                                                                         \
  static inline TARGET __attribute__((always_inline)) V select_##SUFFIX(VI m, V a, V b) {   \
    return (V)((m & (VI)a) | (~m & (VI)b));                                                 \
  }                                                                                         \
  /* e^r − 1 for x = k ln 2 + r, and k in the low bits of *shifted (the shifter's). */     \
  static inline TARGET __attribute__((always_inline)) V expReduced_##SUFFIX(V x, V *shifted) { \
    const double shifter = 6755399441055744.0; /* 1.5 · 2^52 */                             \
    *shifted = x * 1.4426950408889634 + shifter;                                            \
    V k = *shifted - shifter;                                                               \
    V r = (x - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;            \
    V p = splat_##SUFFIX(1.0 / 6227020800.0);                                               \
    p = p * r + 1.0 / 479001600.0;                                                          \
    p = p * r + 1.0 / 39916800.0;                                                           \
    p = p * r + 1.0 / 3628800.0;                                                            \
    p = p * r + 1.0 / 362880.0;                                                             \
    p = p * r + 1.0 / 40320.0;                                                              \
    p = p * r + 1.0 / 5040.0;                                                               \
    p = p * r + 1.0 / 720.0;                                                                \
    p = p * r + 1.0 / 120.0;                                                                \
    p = p * r + 1.0 / 24.0;                                                                 \
    p = p * r + 1.0 / 6.0;                                                                  \
    p = p * r + 0.5;                                                                        \
    return (p * r) * r + r;                                                                 \
  }                                                                                         \
  static inline TARGET __attribute__((always_inline)) V exp_##SUFFIX(V x) {                 \
    const double shifter = 6755399441055744.0; /* 1.5 · 2^52 */                             \
    x = select_##SUFFIX(x > 710.0, splat_##SUFFIX(710.0), x);                               \
    x = select_##SUFFIX(x < -746.0, splat_##SUFFIX(-746.0), x);                             \
    V shifted;                                                                              \
    V er = 1.0 + expReduced_##SUFFIX(x, &shifted);                                          \
    VI ki = (VI)shifted - (VI)splat_##SUFFIX(shifter);                                      \
    VI k1 = ki >> 1;                                                                        \
    VI k2 = ki - k1;                                                                        \
    V s1 = (V)((k1 + 1023) << 52);                                                          \
    V s2 = (V)((k2 + 1023) << 52);                                                          \
    return (er * s1) * s2;                                                                  \
  }                                                                                         \
  /* log(2^k (1 + f)) for f = m − 1, m ∈ [√2/2, √2), plus a correction c (fdlibm). */       \
  static inline TARGET __attribute__((always_inline)) V logCore_##SUFFIX(V f, V dk, V c) {  \
    V hfsq = 0.5 * f * f;                                                                   \
    V s = f / (2.0 + f);                                                                    \
    V z = s * s;                                                                            \
    V w = z * z;                                                                            \
    V t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01)); \
    V t2 = z * (6.666666666666735130e-01 +                                                  \
                w * (2.857142874366239149e-01 + w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01))); \
    V R = t2 + t1;                                                                          \
    return dk * 6.93147180369123816490e-01 -                                                \
           ((hfsq - (s * (hfsq + R) + (dk * 1.90821492927058770002e-10 + c))) - f);         \
  }                                                                                         \
  /* Splits positive normal u into 2^k m, m ∈ [√2/2, √2); returns m, writes k as double. */ \
  static inline TARGET __attribute__((always_inline)) V split_##SUFFIX(V u, VI offset, V *dk) { \
    VI bits = (VI)u;                                                                        \
    VI e = ((bits >> 52) & 0x7ff) - 1023 - offset;                                          \
    V m = (V)((bits & 0x000fffffffffffffLL) | 0x3ff0000000000000LL);                        \
    VI big = m > 1.4142135623730951;                                                        \
    m = select_##SUFFIX(big, m * 0.5, m);                                                   \
    e -= big; /* big is −1 where true */                                                    \
    /* int64 → double for |e| < 2^51: 1.5 · 2^52 + e, read as a double, minus 1.5 · 2^52. */ \
    *dk = (V)(e + (VI)splat_##SUFFIX(6755399441055744.0)) - 6755399441055744.0;             \
    return m;                                                                               \
  }                                                                                         \
  static inline TARGET __attribute__((always_inline)) V log_##SUFFIX(V x) {                 \
    VI tiny = x < 2.2250738585072014e-308;                                                  \
    V u = select_##SUFFIX(tiny, x * 18014398509481984.0 /* 2^54 */, x);                     \
    V dk;                                                                                   \
    V m = split_##SUFFIX(u, tiny & 54, &dk);                                                \
    V y = logCore_##SUFFIX(m - 1.0, dk, splat_##SUFFIX(0.0));                               \
    y = select_##SUFFIX(x == __builtin_inf(), x, y);                                        \
    y = select_##SUFFIX(x == 0.0, splat_##SUFFIX(-__builtin_inf()), y);                     \
    y = select_##SUFFIX(x < 0.0, splat_##SUFFIX(__builtin_nan("")), y);                     \
    return select_##SUFFIX(x != x, x, y);                                                   \
  }                                                                                         \
  static inline TARGET __attribute__((always_inline)) V log1p_##SUFFIX(V x) {               \
    V u = 1.0 + x;                                                                          \
    V dk;                                                                                   \
    V m = split_##SUFFIX(u, (VI){0}, &dk);                                                  \
    /* c = (1 + x) − u exactly, divided by u (fdlibm's s_log1p.c). */                       \
    V c = select_##SUFFIX(dk > 0.0, 1.0 - (u - x), x - (u - 1.0)) / u;                      \
    V y = logCore_##SUFFIX(m - 1.0, dk, c);                                                 \
    V magnitude = (V)((VI)x & 0x7fffffffffffffffLL);                                        \
    y = select_##SUFFIX(magnitude < 5.551115123125783e-17 /* 2^-54 */, x, y);               \
    y = select_##SUFFIX(x == __builtin_inf(), x, y);                                        \
    y = select_##SUFFIX(x == -1.0, splat_##SUFFIX(-__builtin_inf()), y);                    \
    y = select_##SUFFIX(x < -1.0, splat_##SUFFIX(__builtin_nan("")), y);                    \
    return select_##SUFFIX(x != x, x, y);                                                   \
  }                                                                                         \
  static inline TARGET __attribute__((always_inline)) V sigmoid_##SUFFIX(V x) {             \
    V magnitude = (V)((VI)x & 0x7fffffffffffffffLL);                                        \
    V e = exp_##SUFFIX(-magnitude);                                                         \
    V s = 1.0 / (1.0 + e);                                                                  \
    return select_##SUFFIX(x >= 0.0, s, e * s);                                             \
  }                                                                                         \
  static inline TARGET __attribute__((always_inline)) V softplus_##SUFFIX(V x) {            \
    V magnitude = (V)((VI)x & 0x7fffffffffffffffLL);                                        \
    V t = exp_##SUFFIX(-magnitude);                                                         \
    V positive = select_##SUFFIX(x > 0.0, x, splat_##SUFFIX(0.0));                          \
    return positive + log1p_##SUFFIX(t);                                                    \
  }                                                                                         \
  /* e^x − 1 for −40 ≤ x ≤ 0 (tanh's core): exp's reduction and polynomial, then         \
     2^k (e^r − 1) + (2^k − 1), which keeps the small results' relative accuracy. */       \
  static inline TARGET __attribute__((always_inline)) V expm1NonPositive_##SUFFIX(V x) {    \
    const double shifter = 6755399441055744.0; /* 1.5 · 2^52 */                             \
    V shifted;                                                                              \
    V em1 = expReduced_##SUFFIX(x, &shifted);                                               \
    VI exponent = (VI)shifted - (VI)splat_##SUFFIX(shifter);                                \
    V scale = (V)((exponent + 1023) << 52);                                                 \
    return scale * em1 + (scale - 1.0);                                                     \
  }                                                                                         \
  /* tanh x = sign(x) · (−e) / (2 + e), e = e^(−2|x|) − 1 ∈ (−1, 0]. */                   \
  static inline TARGET __attribute__((always_inline)) V tanh_##SUFFIX(V x) {                \
    VI magnitudeBits = (VI)x & 0x7fffffffffffffffLL;                                        \
    VI sign = (VI)x ^ magnitudeBits;                                                        \
    V t = -2.0 * (V)magnitudeBits;                                                          \
    t = select_##SUFFIX(t < -40.0, splat_##SUFFIX(-40.0), t);                               \
    V e = expm1NonPositive_##SUFFIX(t);                                                     \
    V magnitude = -e / (2.0 + e);                                                           \
    return (V)(((VI)magnitude & 0x7fffffffffffffffLL) | sign); /* −e / 2 is −0 at x = 0 */   \
  }                                                                                         \
  static inline TARGET __attribute__((always_inline)) V apply_##SUFFIX(int function, V x) { \
    switch (function) {                                                                     \
      case CK_EXP: return exp_##SUFFIX(x);                                                  \
      case CK_LOG: return log_##SUFFIX(x);                                                  \
      case CK_LOG1P: return log1p_##SUFFIX(x);                                              \
      case CK_SIGMOID: return sigmoid_##SUFFIX(x);                                          \
      case CK_TANH: return tanh_##SUFFIX(x);                                                \
      default: return softplus_##SUFFIX(x);                                                 \
    }                                                                                       \
  }                                                                                         \
  /* One switch per call, not per element: each case is its own loop. */                   \
  static inline TARGET __attribute__((always_inline)) void loop_##SUFFIX(                   \
      int function, const double *x, double *y, long n) {                                   \
    long i = 0;                                                                             \
    for (; i + W <= n; i += W) *(VU *)(y + i) = apply_##SUFFIX(function, *(const VU *)(x + i)); \
    if (i < n) {                                                                            \
      V t = {0};                                                                            \
      for (long j = 0; j < n - i; j++) t[j] = x[i + j];                                     \
      t = apply_##SUFFIX(function, t);                                                      \
      for (long j = 0; j < n - i; j++) y[i + j] = t[j];                                     \
    }                                                                                       \
  }                                                                                         \
  TARGET void ck_map_##SUFFIX(int function, const double *x, double *y, long n) {           \
    switch (function) {                                                                     \
      case CK_EXP: loop_##SUFFIX(CK_EXP, x, y, n); break;                                   \
      case CK_LOG: loop_##SUFFIX(CK_LOG, x, y, n); break;                                   \
      case CK_LOG1P: loop_##SUFFIX(CK_LOG1P, x, y, n); break;                               \
      case CK_SIGMOID: loop_##SUFFIX(CK_SIGMOID, x, y, n); break;                           \
      case CK_TANH: loop_##SUFFIX(CK_TANH, x, y, n); break;                                 \
      default: loop_##SUFFIX(CK_SOFTPLUS, x, y, n); break;                                  \
    }                                                                                       \
  }

CK_MATH(avx2, CK_AVX2, ck_d4, ck_i4, ck_d4u, 4)
CK_MATH(avx512, CK_AVX512, ck_d8, ck_i8, ck_d8u, 8)
// The helpers pass 8-wide vectors between always-inlined functions, so the ABI note clang
// gives for 512-bit arguments without AVX-512 does not apply.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"
CK_MATH(8_on_avx2, CK_AVX2, ck_d8, ck_i8, ck_d8u, 8)
#pragma clang diagnostic pop

#else  // Not x86-64: never called (ck_cpu_supports returns 0 for these paths).

void ck_map_avx2(int function, const double *x, double *y, long n) {}
void ck_map_avx512(int function, const double *x, double *y, long n) {}
void ck_map_8_on_avx2(int function, const double *x, double *y, long n) {}

#endif
