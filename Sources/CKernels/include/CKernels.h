// Kernels compiled for instruction sets wider than the package's baseline target.
//
// Swift has no per-function target attribute, so the hot loops that need AVX2 + FMA or
// AVX-512 live here, in C, each function carrying clang's `target` attribute: the package
// builds with no compiler flags, for baseline x86-64, and `Autodiff/Kernels/KernelPath.swift`
// calls these only when `ck_cpu_supports` says the running CPU has the instructions.
// Every function has a Swift reference implementation that the tests hold it to
// (Tests/AutodiffTests/KernelPathTests.swift). On other architectures the functions exist
// (so the Swift side links) but are never called.
//
// Conventions: row-major doubles, lengths in elements (long), no allocation, no globals.

#ifndef CKERNELS_H
#define CKERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set levels, widest last. 0: the baseline (the Swift reference kernels).
enum {
  CK_PATH_REFERENCE = 0,
  CK_PATH_AVX2 = 1,    // AVX2 and FMA (x86-64-v3)
  CK_PATH_AVX512 = 2,  // AVX-512 F (x86-64-v4)
};

/// Whether the running CPU (and its operating system) supports `path`.
int ck_cpu_supports(int path);

// MARK: - GEMM micro-kernels
//
// C[0..<MR, 0..<NR] (+)= A_panel B_panel, where the packed A panel holds, for each of kc
// steps, the MR values op(A)(i, p) (once each), and the packed B panel the NR values
// op(B)(p, j). C is row-major with leading dimension ldc. `accumulate` adds to C instead
// of overwriting it. Panels need no alignment.

/// MR = 6, NR = 8 (twelve 4-wide accumulators), AVX2 + FMA.
void ck_gemm_6x8_avx2(long kc, const double *a, const double *b, double *c, long ldc, int accumulate);
/// MR = 8, NR = 24 (twenty-four 8-wide accumulators), AVX-512 F.
void ck_gemm_8x24_avx512(long kc, const double *a, const double *b, double *c, long ldc, int accumulate);
/// The AVX-512 kernel's source compiled for AVX2 + FMA (each 8-wide operation as two 4-wide
/// ones): the tests run its tiling logic on machines without AVX-512.
void ck_gemm_8x24_on_avx2(long kc, const double *a, const double *b, double *c, long ldc, int accumulate);

// MARK: - Narrow products

/// C(i, 0..<n) = Σ_p op(A)(i, p) B(p, 0..<n) for rows i in [row0, row1) and n ≤ 16, where
/// op(A)(i, p) = a[i lane + p step] (A read in place) and B is packed as k rows of 16
/// values (columns n..<16 zero). C(i, q) is written at c[i row_stride + q column_stride].
void ck_gemm_narrow_avx2(long row0, long row1, long k, const double *a, long step, long lane, const double *b,
                         double *c, long row_stride, long column_stride, long n);
void ck_gemm_narrow_avx512(long row0, long row1, long k, const double *a, long step, long lane, const double *b,
                           double *c, long row_stride, long column_stride, long n);

// The AVX-512 code of the narrow, packing and matrix-vector kernels compiled for AVX2 + FMA
// (each 8-wide operation as two 4-wide ones), as `ck_gemm_8x24_on_avx2` is for the GEMM
// micro-kernel: the tests run the AVX-512 kernels' logic on machines without AVX-512.
void ck_gemm_narrow_8_on_avx2(long row0, long row1, long k, const double *a, long step, long lane, const double *b,
                              double *c, long row_stride, long column_stride, long n);
void ck_pack_panels_8_on_avx2(const double *src, long step, long lane, long lanes, long w, long kc, double *dst);
void ck_gemv_rows_8_on_avx2(long row0, long row1, long k, const double *m, const double *x, double *y);
void ck_gemv_transposed_8_on_avx2(long col0, long col1, long k, long ld, const double *m, const double *x, double *y);

// MARK: - GEMM packing

/// Packs `lanes` lanes (rows of op(A), or columns of op(B)) of `kc` steps each (along the
/// depth) into consecutive panels of `w` lanes: panel p holds lanes p w ..< p w + w, step
/// by step, dst[p w kc + q w + r] = src[q step + (p w + r) lane], and 0 for lanes past
/// `lanes`. `step` and `lane` are the strides between consecutive steps and lanes.
void ck_pack_panels_avx2(const double *src, long step, long lane, long lanes, long w, long kc, double *dst);
void ck_pack_panels_avx512(const double *src, long step, long lane, long lanes, long w, long kc, double *dst);

// MARK: - Matrix-vector products

/// y[i] = M[i, :] · x for rows [row0, row1) of a row-major matrix with `columns` columns.
void ck_gemv_rows_avx2(long row0, long row1, long columns, const double *m, const double *x, double *y);
void ck_gemv_rows_avx512(long row0, long row1, long columns, const double *m, const double *x, double *y);
/// y[j] = Σ_p M[p, j] x[p] for columns [col0, col1) of a row-major `rows` × `ld` matrix.
void ck_gemv_transposed_avx2(long col0, long col1, long rows, long ld, const double *m, const double *x, double *y);
void ck_gemv_transposed_avx512(long col0, long col1, long rows, long ld, const double *m, const double *x, double *y);
/// The same for two vectors at once, the matrix read once for both: y1 = M x1 and y2 = M x2
/// for rows [row0, row1), and y1 = Mᵀ x1, y2 = Mᵀ x2 for columns [col0, col1) (a value and
/// its tangent at a forward-mode level).
void ck_gemv2_rows_avx2(long row0, long row1, long columns, const double *m, const double *x1, const double *x2,
                        double *y1, double *y2);
void ck_gemv2_rows_avx512(long row0, long row1, long columns, const double *m, const double *x1, const double *x2,
                          double *y1, double *y2);
void ck_gemv2_transposed_avx2(long col0, long col1, long rows, long ld, const double *m, const double *x1,
                              const double *x2, double *y1, double *y2);
void ck_gemv2_transposed_avx512(long col0, long col1, long rows, long ld, const double *m, const double *x1,
                                const double *x2, double *y1, double *y2);

// MARK: - Elementwise transcendental functions
//
// y[i] = f(x[i]) for i < n; y may equal x. Largest distance, in units in the last place,
// from the correctly rounded value (an 80-bit long-double result rounded), measured over
// 4·10⁶ arguments spread over each function's whole range: exp 1, log 1, log1p 2,
// sigmoid 3, softplus 3, tanh 3; the tests hold them to glibc within those bounds plus one.
// Special values follow C's: exp(±inf) = inf, 0; log(0) = −inf, log(x < 0) = NaN;
// subnormal arguments and results are handled; NaN in, NaN out.

enum {
  CK_EXP = 0,
  CK_LOG = 1,
  CK_LOG1P = 2,
  CK_SIGMOID = 3,
  CK_SOFTPLUS = 4,
  CK_TANH = 5,
};

void ck_map_avx2(int function, const double *x, double *y, long n);
void ck_map_avx512(int function, const double *x, double *y, long n);
/// The AVX-512 source compiled for AVX2 + FMA, for tests on machines without AVX-512.
void ck_map_8_on_avx2(int function, const double *x, double *y, long n);

// MARK: - Elementwise programs
//
// The executor of a fused elementwise program (Autodiff/Kernels/ElementwiseProgramKernel.swift
// plans it; its Swift executor is the reference). The values are cut into rows of
// `row_length` (no tile wraps inside a row) and rows into blocks of at most `block_size`;
// for each block every register's address is set (a scratch block, or base + offset, or
// base + offset mod period for a tile), then the steps run in order, each one loop over the
// block. A step's destination never aliases its operands.

/// Step operations. _VV: two vector operands; _VS: x op scalar; _SV: scalar op x.
enum {
  CK_OP_ADD_VV = 0, CK_OP_SUB_VV = 1, CK_OP_MUL_VV = 2, CK_OP_DIV_VV = 3,
  CK_OP_ADD_VS = 4, CK_OP_SUB_VS = 5, CK_OP_MUL_VS = 6, CK_OP_DIV_VS = 7,
  CK_OP_SUB_SV = 8, CK_OP_DIV_SV = 9,
  CK_OP_NEGATE = 10, CK_OP_SQUARE = 11, CK_OP_SQRT = 12, CK_OP_ABS = 13, CK_OP_RELU = 14,
  CK_OP_SIGN = 15, CK_OP_STEP = 16,
  CK_OP_POW = 17,   // x^scalar
  CK_OP_MAP = 18,   // the CK_EXP... function `b` of x
  CK_OP_COPY = 19,  // y = x
  CK_OP_FILL = 20,  // y = scalar
  CK_OP_SUM = 21,   // sums[b] += the block's values of x (the destination is unused)
  // Two operations in one step (a product read once, by the next operation): one store
  // and one load fewer per value. The same two roundings as the separate steps (no FMA).
  CK_OP_MUL_MUL_S = 22,  // (a b) s
  CK_OP_MUL_ADD = 23,    // a b + c
  CK_OP_MUL_SUB = 24,    // a b − c
  CK_OP_SUB_MUL = 25,    // c − a b
  CK_OP_MULS_ADD = 26,   // a s + c
  CK_OP_MULS_SUB = 27,   // a s − c
  // Only in `ck_elementwise_*` (the scaled product's kernel), never in a program.
  CK_OP_SMUL_MUL = 28,   // (s a) b
};

typedef struct {
  int op;
  int destination;  // register indices
  int a;
  int b;            // the second operand, or the CK_MAP function
  int c;            // the third operand of the two-operation steps
  double scalar;
} ck_step;

typedef struct {
  double *base;
  long period;      // -1: a fixed scratch block; 0: every value; > 0: a tile of this length
} ck_register;

/// Runs `steps` over the `count` values from value `first` on (both multiples of
/// `row_length`, or `first` + `count` the end). `addresses` is scratch space for
/// `register_count` pointers; `sums` receives the CK_OP_SUM steps' totals (added to its
/// values).
void ck_run_program_avx2(const ck_step *steps, long step_count, const ck_register *registers, double **addresses,
                         long register_count, long first, long count, long row_length, long block_size,
                         double *sums);
void ck_run_program_avx512(const ck_step *steps, long step_count, const ck_register *registers, double **addresses,
                           long register_count, long first, long count, long row_length, long block_size,
                           double *sums);

// MARK: - One step over an array
//
// The kernels of the unfused elementwise primitives (Autodiff/Kernels/ElementwiseKernels.swift,
// whose Swift loops are the reference): y[i] = a[i] op b[i], a[i] op s, s op a[i] (the _SV
// codes), −a[i], a[i]², or (s a[i]) b[i] (CK_OP_SMUL_MUL), for i < n, with the same IEEE
// operations as the reference (no FMA). `b` may be null for the one-operand codes; y may be
// a (in place). Other codes do nothing.
void ck_elementwise_avx2(int op, const double *a, const double *b, double s, double *y, long n);
void ck_elementwise_avx512(int op, const double *a, const double *b, double s, double *y, long n);
/// The AVX-512 source compiled for AVX2 + FMA, for tests on machines without AVX-512.
void ck_elementwise_8_on_avx2(int op, const double *a, const double *b, double s, double *y, long n);

/// The product rule in one pass: y[i] = (s a[i]) b[i] + (s c[i]) d[i] for i < n, each
/// operation rounded as written (no FMA), as the reference (`productRuleKernel`) and the
/// three unfused operations it replaces compute it.
void ck_product_rule_avx2(const double *a, const double *b, const double *c, const double *d, double s, double *y,
                          long n);
void ck_product_rule_avx512(const double *a, const double *b, const double *c, const double *d, double s, double *y,
                            long n);
/// The AVX-512 source compiled for AVX2 + FMA, for tests on machines without AVX-512.
void ck_product_rule_8_on_avx2(const double *a, const double *b, const double *c, const double *d, double s,
                               double *y, long n);

#ifdef __cplusplus
}
#endif

#endif
