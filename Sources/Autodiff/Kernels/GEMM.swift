// General matrix multiply (GEMM) on raw Float64 storage: C = op(A) op(B), op(M) = M or M^T.
//
// Goals, in priority order: exact results for every transpose combination and shape (including
// empty ones), then speed on the CPU at hand with no compiler flags: the reference loops here
// are written for the baseline x86-64 target (SSE2: sixteen 2-wide xmm registers, no FMA),
// and `KernelPath` swaps in the AVX2 + FMA or AVX-512 micro-kernels and matrix-vector loops
// of the CKernels target when the CPU has them.
//
// Design (Goto / BLIS style):
// - m = 1 or n = 1: matrix-vector loops on the operands in place (dot products four rows at a
//   time, or 16-column strips of y held in registers while rows of the matrix stream past).
// - m n k < `GEMMTuning.smallProduct`: direct loops, no packing.
// - On the CKernels paths, n ≤ 16 (or m ≤ 16, as C^T): the narrow operand packed 16 wide,
//   the other read in place, blocks of rows of C held in registers (`gemmNarrow`): the
//   packed path would pad n = 10 to a 24-wide tile and pack the wide operand first.
// - Otherwise op(A) and op(B) are packed into contiguous, 64-byte-aligned panels (one allocation
//   per call and worker). Packing reads A and B in whichever layout they are stored, so no
//   transpose is ever materialized, and zero-pads panels to whole micro-tiles, so the
//   micro-kernel has no edge cases (edge tiles go through a 1 x 16 buffer).
// - Micro-kernels (`GEMMMicroKernel`): the reference holds a 1 x 16 tile of C in eight
//   SIMD2<Double> accumulators, one rank-1 update per step of k, with op(A) packed with each
//   element duplicated, so its broadcast is one aligned load instead of a load and a shuffle
//   (measured at about 28.5 GFLOP/s per core on a 2-core AMD EPYC (Zen 5), the SSE2 mul + add
//   peak). AVX2 + FMA runs a 6 x 8 tile (twelve 4-wide accumulators), AVX-512 an 8 x 24 tile
//   (twenty-four 8-wide accumulators), both with op(A) packed once per element.
// - Cache blocking: KC = 256 steps of k per panel, MC = 120 or 128 rows of op(A) per packed
//   block (a multiple of the tile height; 512 KB with the duplication, in L2), NC = 4096
//   columns of op(B) per packed block (4080 for the 24-wide tile).
// - When C is tall and narrow (say n = 10), the product is computed as C^T = op(B)^T op(A)^T
//   with a strided store, so the zero padding of the wide tiles falls on the long side, if
//   the multiply-adds that saves outweigh the cost of the strided store (`storeCost`).
// - Products of at least 2^17 multiply-adds are split into bands of rows or columns of C, one
//   per core, with `parallelFor` (WorkerPool.swift, whose helpers are awake between loops);
//   each worker packs its own panels. Matrix-vector products split from 2^17 multiply-adds.
// - Debug builds (DEBUG defined, -Onone) swap the SIMD inner loops for scalar ones, because
//   unoptimized SIMD arithmetic is several times slower than unoptimized scalar code. The
//   packing, blocking, edge and threading logic is shared.

import CKernels
import Dispatch
import Foundation

/// C (m x n, row-major, leading dimension n) = op(A) op(B), overwriting C.
/// A: m x k row-major (or k x m when transposeA), B: k x n (or n x k when transposeB).
///
/// C may be uninitialized and must not overlap A or B. A and B may be any pointer when the
/// product is empty (m, n or k = 0). Safe to call from several threads at once.
@usableFromInline
func gemm(
  m: Int, n: Int, k: Int,
  a: UnsafePointer<Double>, transposeA: Bool,
  b: UnsafePointer<Double>, transposeB: Bool,
  c: UnsafeMutablePointer<Double>
) {
  gemm(
    m: m, n: n, k: k, a: a, transposeA: transposeA, b: b, transposeB: transposeB, c: c,
    maxThreads: Parallelism.maximumThreads)
}

/// The innermost loop of a packed product, with its tile (MR x NR) and cache blocking.
enum GEMMMicroKernel: Sendable, CaseIterable {
  /// Swift SIMD2, 1 x 16, op(A) packed duplicated (`referenceMicroKernel`).
  case reference
  /// `ck_gemm_6x8_avx2`.
  case avx2
  /// `ck_gemm_8x24_avx512`.
  case avx512
  /// `ck_gemm_8x24_on_avx2`: the AVX-512 tile's code on AVX2, for tests.
  case avx512OnAVX2

  /// The kernel of a path.
  static func of(_ path: KernelPath) -> GEMMMicroKernel {
    switch path {
    case .reference: .reference
    case .avx2: .avx2
    case .avx512: .avx512
    }
  }

  /// The instruction-set level the kernel needs.
  var path: KernelPath {
    switch self {
    case .reference: .reference
    case .avx2, .avx512OnAVX2: .avx2
    case .avx512: .avx512
    }
  }

  /// Micro-tile height (rows of C per call).
  var mr: Int {
    switch self {
    case .reference: 1
    case .avx2: 6
    case .avx512, .avx512OnAVX2: 8
    }
  }
  /// Micro-tile width (columns of C per call).
  var nr: Int {
    switch self {
    case .reference: 16
    case .avx2: 8
    case .avx512, .avx512OnAVX2: 24
    }
  }
  /// The cost of writing one value of C through the tile buffer (a scalar load, add and
  /// store), in the micro-kernel's multiply-adds: about 1.5 cycles, at 16 (AVX-512), 8
  /// (AVX2 + FMA) or 2 (SSE2) multiply-adds per cycle.
  var storeCost: Int {
    switch self {
    case .reference: 3
    case .avx2, .avx512OnAVX2: 12
    case .avx512: 24
    }
  }
  /// Copies of each op(A) value in the packed panel (2: a ready-made SIMD2 broadcast).
  var copiesOfA: Int { self == .reference ? 2 : 1 }
  /// Depth of a packed panel.
  var kc: Int { 256 }
  /// Rows of op(A) per packed block, a multiple of `mr`.
  var mc: Int { self == .avx2 ? 120 : 128 }
  /// Columns of op(B) per packed block, a multiple of `nr`.
  var nc: Int { nr == 24 ? 4080 : 4096 }

  /// c[0..<MR, 0..<NR] (+)= the product of one packed A panel and one packed B panel; row i
  /// of the tile at c + i ldc.
  @inline(__always)
  func run(
    _ kc: Int, _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
    ldc: Int, accumulate: Bool
  ) {
    switch self {
    case .reference: referenceMicroKernel(kc, a, b, c, accumulate)
    case .avx2: ck_gemm_6x8_avx2(kc, a, b, c, ldc, accumulate ? 1 : 0)
    case .avx512: ck_gemm_8x24_avx512(kc, a, b, c, ldc, accumulate ? 1 : 0)
    case .avx512OnAVX2: ck_gemm_8x24_on_avx2(kc, a, b, c, ldc, accumulate ? 1 : 0)
    }
  }
}

/// Tuning constants.
enum GEMMTuning {
  /// Below this many multiply-adds (m n k), the unpacked loops are faster.
  static let smallProduct = 2048
  /// The widest C (or C^T) computed by `gemmNarrow` on the CKernels paths: the width of
  /// its packed B, two AVX-512 or four AVX2 vectors.
  static let narrowWidth = 16
  /// Multiply-adds per worker before a matrix or matrix-vector product is split across
  /// cores (2 workers from 2^17: with the pool's helpers awake, a split pays from about
  /// 0.1 MFLOP; the MLP's gradient went from 551 to 420 µs when this came down from 2^19).
  static let parallelGrain = 65536
}

/// `gemm` with an explicit cap on the number of worker threads.
func gemm(
  m: Int, n: Int, k: Int,
  a: UnsafePointer<Double>, transposeA: Bool,
  b: UnsafePointer<Double>, transposeB: Bool,
  c: UnsafeMutablePointer<Double>, maxThreads: Int, kernel: GEMMMicroKernel = .of(KernelPath.current)
) {
  require(m >= 0 && n >= 0 && k >= 0, "gemm: negative dimension")
  if m == 0 || n == 0 { return }
  if k == 0 {
    c.initialize(repeating: 0, count: m * n)
    return
  }
  let work = m * n * k  // multiply-adds
  // Matrix-vector products. A vector's memory layout is the same transposed or not.
  if n == 1 {
    if transposeA {
      // A is k x m: c = A^T b.
      gemvTransposed(rows: k, columns: m, matrix: a, x: b, y: c, maxThreads: maxThreads, path: kernel.path)
    } else {
      gemv(rows: m, columns: k, matrix: a, x: b, y: c, maxThreads: maxThreads, path: kernel.path)
    }
    return
  }
  if m == 1 {
    if transposeB {
      // B is n x k: c[j] = B[j, :] . a.
      gemv(rows: n, columns: k, matrix: b, x: a, y: c, maxThreads: maxThreads, path: kernel.path)
    } else {
      // B is k x n: c = B^T a.
      gemvTransposed(rows: k, columns: n, matrix: b, x: a, y: c, maxThreads: maxThreads, path: kernel.path)
    }
    return
  }
  if work < GEMMTuning.smallProduct {
    gemmSmall(m: m, n: n, k: k, a: a, transposeA: transposeA, b: b, transposeB: transposeB, c: c)
    return
  }
  if kernel.path != .reference && min(m, n) <= GEMMTuning.narrowWidth {
    gemmNarrow(
      m: m, n: n, k: k, a: a, transposeA: transposeA, b: b, transposeB: transposeB, c: c, maxThreads: maxThreads,
      path: kernel.path)
    return
  }
  // Compute C^T = op(B)^T op(A)^T when the multiply-adds it saves on zero-padded
  // micro-tiles outweigh its strided store: a value of C in a partial tile, and with the
  // swap every value, goes through the tile buffer, as costly as `storeCost` multiply-adds.
  let mr = kernel.mr
  let nr = kernel.nr
  let direct = roundUp(m, mr) * roundUp(n, nr) * k + kernel.storeCost * (m * n - (m / mr * mr) * (n / nr * nr))
  let swapped = roundUp(n, mr) * roundUp(m, nr) * k + kernel.storeCost * m * n
  var p = GEMMProblem(
    m: m, n: n, k: k, a: a, transposeA: transposeA, b: b, transposeB: transposeB,
    c: c, rowStride: n, columnStride: 1, kernel: kernel)
  if swapped < direct {
    // op(B)^T(i, p) = op(B)(p, i), op(A)^T(p, j) = op(A)(j, p), C^T(i, j) = C(j, i).
    p = GEMMProblem(
      m: n, n: m, k: k, a: b, transposeA: !transposeB, b: a, transposeB: !transposeA,
      c: c, rowStride: 1, columnStride: n, kernel: kernel)
  }
  let threads = min(maxThreads, work / GEMMTuning.parallelGrain)
  if threads <= 1 {
    gemmPacked(p, rows: 0..<p.m, columns: 0..<p.n)
    return
  }
  // Split the larger dimension of C into bands of whole micro-tiles, one per worker.
  let splitRows = p.m >= p.n
  let unit = splitRows ? mr : nr
  let length = splitRows ? p.m : p.n
  let units = (length + unit - 1) / unit
  let workers = min(threads, units)
  if workers <= 1 {
    gemmPacked(p, rows: 0..<p.m, columns: 0..<p.n)
    return
  }
  let problem = p
  parallelFor(iterations: workers, maxThreads: workers) { w in
    let lo = units * w / workers * unit
    let hi = min(length, units * (w + 1) / workers * unit)
    if splitRows {
      gemmPacked(problem, rows: lo..<hi, columns: 0..<problem.n)
    } else {
      gemmPacked(problem, rows: 0..<problem.m, columns: lo..<hi)
    }
  }
}

@inline(__always)
private func roundUp(_ x: Int, _ r: Int) -> Int { (x + r - 1) / r * r }

/// Operands of one packed product; C(i, j) lives at c[i * rowStride + j * columnStride].
private struct GEMMProblem: @unchecked Sendable {
  var m: Int, n: Int, k: Int
  var a: UnsafePointer<Double>, transposeA: Bool
  var b: UnsafePointer<Double>, transposeB: Bool
  var c: UnsafeMutablePointer<Double>
  var rowStride: Int, columnStride: Int
  var kernel: GEMMMicroKernel
}

// MARK: - Packed product

/// Computes the block C[rows, columns] of `p` on the calling thread.
private func gemmPacked(_ p: GEMMProblem, rows: Range<Int>, columns: Range<Int>) {
  let kernel = p.kernel
  let mr = kernel.mr
  let nr = kernel.nr
  let copies = kernel.copiesOfA
  let kcMax = min(kernel.kc, p.k)
  let mcMax = min(kernel.mc, roundUp(rows.count, mr))
  let ncMax = min(kernel.nc, roundUp(columns.count, nr))
  let countA = copies * mcMax * kcMax
  let countB = ncMax * kcMax
  let countTile = mr * nr
  let buffer = UnsafeMutableRawPointer.allocate(byteCount: 8 * (countA + countB + countTile), alignment: 64)
  defer { buffer.deallocate() }
  let packedA = buffer.bindMemory(to: Double.self, capacity: countA + countB + countTile)
  let packedB = packedA + countA
  let tile = packedB + countB
  let directStore = p.columnStride == 1

  var jc = columns.lowerBound
  while jc < columns.upperBound {
    let nc = min(kernel.nc, columns.upperBound - jc)
    var pc = 0
    while pc < p.k {
      let kc = min(kernel.kc, p.k - pc)
      let accumulate = pc > 0
      packB(p, depth: pc, kc: kc, column: jc, nc: nc, into: packedB)
      var ic = rows.lowerBound
      while ic < rows.upperBound {
        let mc = min(kernel.mc, rows.upperBound - ic)
        packA(p, row: ic, mc: mc, depth: pc, kc: kc, into: packedA)
        var jr = 0
        while jr < nc {
          let tileColumns = min(nr, nc - jr)
          let panelB = packedB + jr * kc
          var ir = 0
          while ir < mc {
            let tileRows = min(mr, mc - ir)
            let panelA = UnsafePointer(packedA + copies * ir * kc)
            let cTile = p.c + (ic + ir) * p.rowStride + (jc + jr) * p.columnStride
            if directStore && tileRows == mr && tileColumns == nr {
              kernel.run(kc, panelA, panelB, cTile, ldc: p.rowStride, accumulate: accumulate)
            } else {
              kernel.run(kc, panelA, panelB, tile, ldc: nr, accumulate: false)
              for r in 0..<tileRows {
                let src = tile + r * nr
                let dst = cTile + r * p.rowStride
                if accumulate {
                  for s in 0..<tileColumns { dst[s * p.columnStride] += src[s] }
                } else {
                  for s in 0..<tileColumns { dst[s * p.columnStride] = src[s] }
                }
              }
            }
            ir += mr
          }
          jr += nr
        }
        ic += mc
      }
      pc += kc
    }
    jc += nc
  }
}

/// Packs op(A)[row..<row+mc, depth..<depth+kc] as consecutive MR-row panels. Within a panel,
/// step p holds op(A)(i, p) for the MR rows i, each written `copiesOfA` times (twice for the
/// reference kernel: a ready-made SIMD2 broadcast); rows past `mc` are zero.
@inline(__always)
private func packA(
  _ p: GEMMProblem, row: Int, mc: Int, depth: Int, kc: Int,
  into dst: UnsafeMutablePointer<Double>
) {
  // op(A)(i, q) is a[q m + i] when transposed, else a[i k + q].
  let (source, step, lane) =
    p.transposeA ? (p.a + depth * p.m + row, p.m, 1) : (p.a + row * p.k + depth, 1, p.k)
  packPanels(
    source, step: step, lane: lane, lanes: mc, width: p.kernel.mr, depth: kc, copies: p.kernel.copiesOfA,
    into: dst, path: p.kernel.path)
}

/// Packs op(B)[depth..<depth+kc, column..<column+nc] as consecutive NR-column panels; within a
/// panel, step p holds the NR values op(B)(p, j); columns past `nc` are zero.
@inline(__always)
private func packB(
  _ p: GEMMProblem, depth: Int, kc: Int, column: Int, nc: Int,
  into dst: UnsafeMutablePointer<Double>
) {
  // op(B)(q, j) is b[j k + q] when transposed, else b[q n + j].
  let (source, step, lane) =
    p.transposeB ? (p.b + column * p.k + depth, 1, p.k) : (p.b + depth * p.n + column, p.n, 1)
  packPanels(
    source, step: step, lane: lane, lanes: nc, width: p.kernel.nr, depth: kc, copies: 1, into: dst,
    path: p.kernel.path)
}

/// Packs `lanes` lanes (rows of op(A), or columns of op(B)) of `depth` steps each into
/// consecutive panels of `width` lanes: panel p holds lanes p w ..< p w + w step by step,
/// each value written `copies` times, dst[(p w kc + q w + r) copies + c] =
/// source[q step + (p w + r) lane], and zeros for lanes past `lanes`. `step` and `lane`
/// are the strides between consecutive steps and lanes.
///
/// The AVX2 and AVX-512 paths (`ck_pack_panels_*`, one copy) transpose blocks in registers
/// when the steps are contiguous; this loop is their reference.
@inline(never)
func packPanels(
  _ source: UnsafePointer<Double>, step: Int, lane: Int, lanes: Int, width w: Int, depth kc: Int, copies: Int,
  into dst: UnsafeMutablePointer<Double>, path: KernelPath
) {
  if copies == 1 {
    switch path {
    case .reference: break
    case .avx2: return ck_pack_panels_avx2(source, step, lane, lanes, w, kc, dst)
    case .avx512: return ck_pack_panels_avx512(source, step, lane, lanes, w, kc, dst)
    }
  }
  let rowWidth = w * copies
  var first = 0
  while first < lanes {
    let count = min(w, lanes - first)
    let s = source + first * lane
    let d = dst + first * kc * copies
    if step == 1 {
      // Each lane contiguous along the depth: read it in order, write a column of the panel.
      for r in 0..<count {
        let from = s + r * lane
        var to = d + r * copies
        for q in 0..<kc {
          let v = from[q]
          for c in 0..<copies { to[c] = v }
          to += rowWidth
        }
      }
    } else {
      for q in 0..<kc {
        let from = s + q * step
        let to = d + q * rowWidth
        if copies == 1 && lane == 1 {
          to.update(from: from, count: count)
        } else if copies == 1 {
          for r in 0..<count { to[r] = from[r &* lane] }
        } else {
          for r in 0..<count {
            let v = from[r &* lane]
            for c in 0..<copies { to[r &* copies &+ c] = v }
          }
        }
      }
    }
    if count < w {
      for q in 0..<kc { (d + q * rowWidth + count * copies).initialize(repeating: 0, count: (w - count) * copies) }
    }
    first += w
  }
}

// MARK: - Narrow products

/// C = op(A) op(B) when n ≤ 16, or m ≤ 16 (then as C^T = op(B)^T op(A)^T, stored strided):
/// the narrow side's operand packed as k rows of 16 values (`packPanels`), the other read
/// in place, rows of C split across workers (`gemmNarrowRows`).
///
/// The packed path pads a narrow side to its tile (n = 10 to 24 columns, or to 16 rows as
/// C^T) and packs the wide operand first; here the wide operand is read once, in place.
private func gemmNarrow(
  m: Int, n: Int, k: Int,
  a: UnsafePointer<Double>, transposeA: Bool,
  b: UnsafePointer<Double>, transposeB: Bool,
  c: UnsafeMutablePointer<Double>, maxThreads: Int, path: KernelPath
) {
  let width = GEMMTuning.narrowWidth
  // Rows of the result, the operand read in place (op(A)(i, p) = rows[i lane + p step]), the
  // packed one (op(B)(p, q) = narrow[p step + q lane]), and where C(i, q) goes.
  let rowCount: Int
  let columnCount: Int
  let rows: UnsafePointer<Double>
  let rowStep: Int
  let rowLane: Int
  let narrow: UnsafePointer<Double>
  let narrowStep: Int
  let narrowLane: Int
  let rowStride: Int
  let columnStride: Int
  if n <= width {
    (rowCount, columnCount, rowStride, columnStride) = (m, n, n, 1)
    (rows, rowStep, rowLane) = transposeA ? (a, m, 1) : (a, 1, k)
    (narrow, narrowStep, narrowLane) = transposeB ? (b, 1, k) : (b, n, 1)
  } else {
    // C^T(i, q) = C(q, i): op(B)^T(i, p) = op(B)(p, i), op(A)^T(p, q) = op(A)(q, p).
    (rowCount, columnCount, rowStride, columnStride) = (n, m, 1, n)
    (rows, rowStep, rowLane) = transposeB ? (b, 1, k) : (b, n, 1)
    (narrow, narrowStep, narrowLane) = transposeA ? (a, m, 1) : (a, 1, k)
  }
  let packed = UnsafeMutablePointer<Double>.allocate(capacity: k * width)
  defer { packed.deallocate() }
  packPanels(
    narrow, step: narrowStep, lane: narrowLane, lanes: columnCount, width: width, depth: k, copies: 1, into: packed,
    path: path)
  let operands = NarrowOperands(rows: rows, packed: packed, c: c)
  @Sendable func band(_ band: Range<Int>) {
    gemmNarrowRows(
      band, k: k, a: operands.rows, step: rowStep, lane: rowLane, packed: operands.packed, c: operands.c,
      rowStride: rowStride, columnStride: columnStride, n: columnCount, path: path)
  }
  // A split pays later than for packed products: a narrow product lasts tens of
  // microseconds, not much more than handing half of it to a worker.
  let threads = min(maxThreads, m * n * k / (8 * GEMMTuning.parallelGrain), rowCount / 8)
  if threads <= 1 {
    band(0..<rowCount)
    return
  }
  let blocks = (rowCount + 7) / 8  // bands of whole 8-row blocks
  parallelFor(iterations: threads, maxThreads: threads) { w in
    band(min(rowCount, blocks * w / threads * 8)..<min(rowCount, blocks * (w + 1) / threads * 8))
  }
}

private struct NarrowOperands: @unchecked Sendable {
  var rows: UnsafePointer<Double>, packed: UnsafePointer<Double>, c: UnsafeMutablePointer<Double>
}

/// C(i, 0..<n) = Σ_p op(A)(i, p) B(p, 0..<n) for i in `rows` and n ≤ 16, where op(A)(i, p) =
/// a[i lane + p step] and B is packed as k rows of 16 values (zero past n); C(i, q) is
/// written at c[i rowStride + q columnStride].
///
/// The CKernels paths (`ck_gemm_narrow_*`) hold blocks of 8 (AVX-512) or 3 (AVX2) rows in
/// registers; this loop, the sum over p in order with separate multiplies and adds, is
/// their reference.
func gemmNarrowRows(
  _ rows: Range<Int>, k: Int, a: UnsafePointer<Double>, step: Int, lane: Int, packed b: UnsafePointer<Double>,
  c: UnsafeMutablePointer<Double>, rowStride: Int, columnStride: Int, n: Int, path: KernelPath
) {
  switch path {
  case .avx2:
    ck_gemm_narrow_avx2(rows.lowerBound, rows.upperBound, k, a, step, lane, b, c, rowStride, columnStride, n)
  case .avx512:
    ck_gemm_narrow_avx512(rows.lowerBound, rows.upperBound, k, a, step, lane, b, c, rowStride, columnStride, n)
  case .reference:
    for i in rows {
      for q in 0..<n {
        var sum = 0.0
        for p in 0..<k { sum += a[i &* lane &+ p &* step] * b[p &* GEMMTuning.narrowWidth &+ q] }
        c[i &* rowStride &+ q &* columnStride] = sum
      }
    }
  }
}

// MARK: - Micro-kernel

/// One 1 x 16 tile of C: c[0..<16] (+)= sum over kc steps of a[p] * b[p, 0..<16], where `a` is
/// a packed A panel (each element duplicated) and `b` a packed B panel, both 16-byte aligned.
/// The tile lives in eight SIMD2 registers; each step is one aligned broadcast load, eight
/// aligned loads, eight multiplies and eight adds. (MR = 1 measured fastest on SSE2: 16 xmm
/// registers leave room for 8 accumulators, and a destructive two-operand multiply needs no
/// register copy when each loaded B vector is used once. 2 x 8 and 4 x 4 tiles measured 3-8%
/// slower, 3 x 8 and 4 x 8 tiles spill.) The reference for the CKernels micro-kernels.
@inline(never)
private func referenceMicroKernel(
  _ kc: Int, _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>,
  _ c: UnsafeMutablePointer<Double>, _ accumulate: Bool
) {
  #if DEBUG
    // Debug builds (-Onone) run SIMD arithmetic as out-of-line calls, several times slower than
    // scalar code; this scalar version computes the same tile from the same panels.
    var c0 = 0.0
    var c1 = 0.0
    var c2 = 0.0
    var c3 = 0.0
    var c4 = 0.0
    var c5 = 0.0
    var c6 = 0.0
    var c7 = 0.0
    var c8 = 0.0
    var c9 = 0.0
    var c10 = 0.0
    var c11 = 0.0
    var c12 = 0.0
    var c13 = 0.0
    var c14 = 0.0
    var c15 = 0.0
    var pa = a
    var pb = b
    for _ in 0..<kc {
      let x = pa[0]
      c0 += x * pb[0]
      c1 += x * pb[1]
      c2 += x * pb[2]
      c3 += x * pb[3]
      c4 += x * pb[4]
      c5 += x * pb[5]
      c6 += x * pb[6]
      c7 += x * pb[7]
      c8 += x * pb[8]
      c9 += x * pb[9]
      c10 += x * pb[10]
      c11 += x * pb[11]
      c12 += x * pb[12]
      c13 += x * pb[13]
      c14 += x * pb[14]
      c15 += x * pb[15]
      pa += 2
      pb += 16
    }
    if accumulate {
      c0 += c[0]
      c1 += c[1]
      c2 += c[2]
      c3 += c[3]
      c4 += c[4]
      c5 += c[5]
      c6 += c[6]
      c7 += c[7]
      c8 += c[8]
      c9 += c[9]
      c10 += c[10]
      c11 += c[11]
      c12 += c[12]
      c13 += c[13]
      c14 += c[14]
      c15 += c[15]
    }
    c[0] = c0
    c[1] = c1
    c[2] = c2
    c[3] = c3
    c[4] = c4
    c[5] = c5
    c[6] = c6
    c[7] = c7
    c[8] = c8
    c[9] = c9
    c[10] = c10
    c[11] = c11
    c[12] = c12
    c[13] = c13
    c[14] = c14
    c[15] = c15
  #else
    typealias V = SIMD2<Double>
    var c0 = V()
    var c1 = V()
    var c2 = V()
    var c3 = V()
    var c4 = V()
    var c5 = V()
    var c6 = V()
    var c7 = V()
    var pa = UnsafeRawPointer(a)
    var pb = UnsafeRawPointer(b)
    for _ in 0..<kc {
      let x = pa.load(as: V.self)
      c0 += x * pb.load(fromByteOffset: 0, as: V.self)
      c1 += x * pb.load(fromByteOffset: 16, as: V.self)
      c2 += x * pb.load(fromByteOffset: 32, as: V.self)
      c3 += x * pb.load(fromByteOffset: 48, as: V.self)
      c4 += x * pb.load(fromByteOffset: 64, as: V.self)
      c5 += x * pb.load(fromByteOffset: 80, as: V.self)
      c6 += x * pb.load(fromByteOffset: 96, as: V.self)
      c7 += x * pb.load(fromByteOffset: 112, as: V.self)
      pa += 16
      pb += 128
    }
    let r = UnsafeMutableRawPointer(c)
    if accumulate {
      c0 += r.loadUnaligned(fromByteOffset: 0, as: V.self)
      c1 += r.loadUnaligned(fromByteOffset: 16, as: V.self)
      c2 += r.loadUnaligned(fromByteOffset: 32, as: V.self)
      c3 += r.loadUnaligned(fromByteOffset: 48, as: V.self)
      c4 += r.loadUnaligned(fromByteOffset: 64, as: V.self)
      c5 += r.loadUnaligned(fromByteOffset: 80, as: V.self)
      c6 += r.loadUnaligned(fromByteOffset: 96, as: V.self)
      c7 += r.loadUnaligned(fromByteOffset: 112, as: V.self)
    }
    r.storeBytes(of: c0, toByteOffset: 0, as: V.self)
    r.storeBytes(of: c1, toByteOffset: 16, as: V.self)
    r.storeBytes(of: c2, toByteOffset: 32, as: V.self)
    r.storeBytes(of: c3, toByteOffset: 48, as: V.self)
    r.storeBytes(of: c4, toByteOffset: 64, as: V.self)
    r.storeBytes(of: c5, toByteOffset: 80, as: V.self)
    r.storeBytes(of: c6, toByteOffset: 96, as: V.self)
    r.storeBytes(of: c7, toByteOffset: 112, as: V.self)
  #endif
}

// MARK: - Matrix-vector products

/// y = M x for a row-major `rows` x `columns` matrix M: one dot product per row, four rows at a
/// time so each load of x serves four rows.
private func gemv(
  rows: Int, columns: Int, matrix: UnsafePointer<Double>,
  x: UnsafePointer<Double>, y: UnsafeMutablePointer<Double>, maxThreads: Int, path: KernelPath
) {
  let threads = min(maxThreads, rows * columns / GEMMTuning.parallelGrain, rows / 4)
  let ptrs = GEMVPointers(matrix: matrix, x: x, y: y)
  // A nested function, not a closure value: the serial call allocates no context.
  @Sendable func band(_ band: Range<Int>) {
    switch path {
    case .reference: gemvRows(band, columns: columns, matrix: ptrs.matrix, x: ptrs.x, y: ptrs.y)
    case .avx2: ck_gemv_rows_avx2(band.lowerBound, band.upperBound, columns, ptrs.matrix, ptrs.x, ptrs.y)
    case .avx512: ck_gemv_rows_avx512(band.lowerBound, band.upperBound, columns, ptrs.matrix, ptrs.x, ptrs.y)
    }
  }
  if threads <= 1 {
    band(0..<rows)
    return
  }
  parallelFor(iterations: threads, maxThreads: threads) { w in
    band(rows * w / threads..<rows * (w + 1) / threads)
  }
}

/// (y1, y2) = (M x1, M x2), or (Mᵀ x1, Mᵀ x2) when `transposed`, for a row-major
/// `rows` x `columns` matrix M read once for both (the CKernels paths; the reference path
/// runs the single-vector loops twice).
func gemvPair(
  rows: Int, columns: Int, matrix: UnsafePointer<Double>, transposed: Bool,
  x1: UnsafePointer<Double>, x2: UnsafePointer<Double>, y1: UnsafeMutablePointer<Double>,
  y2: UnsafeMutablePointer<Double>, maxThreads: Int, path: KernelPath
) {
  let (p1, p2) = (GEMVPointers(matrix: matrix, x: x1, y: y1), GEMVPointers(matrix: matrix, x: x2, y: y2))
  let outputs = transposed ? columns : rows
  // A nested function, not a closure value: the serial call allocates no context.
  @Sendable func band(_ band: Range<Int>) {
    switch (path, transposed) {
    case (.reference, false):
      gemvRows(band, columns: columns, matrix: p1.matrix, x: p1.x, y: p1.y)
      gemvRows(band, columns: columns, matrix: p2.matrix, x: p2.x, y: p2.y)
    case (.reference, true):
      gemvTransposedColumns(band, rows: rows, stride: columns, matrix: p1.matrix, x: p1.x, y: p1.y)
      gemvTransposedColumns(band, rows: rows, stride: columns, matrix: p2.matrix, x: p2.x, y: p2.y)
    case (.avx2, false):
      ck_gemv2_rows_avx2(band.lowerBound, band.upperBound, columns, p1.matrix, p1.x, p2.x, p1.y, p2.y)
    case (.avx512, false):
      ck_gemv2_rows_avx512(band.lowerBound, band.upperBound, columns, p1.matrix, p1.x, p2.x, p1.y, p2.y)
    case (.avx2, true):
      ck_gemv2_transposed_avx2(band.lowerBound, band.upperBound, rows, columns, p1.matrix, p1.x, p2.x, p1.y, p2.y)
    case (.avx512, true):
      ck_gemv2_transposed_avx512(band.lowerBound, band.upperBound, rows, columns, p1.matrix, p1.x, p2.x, p1.y, p2.y)
    }
  }
  let threads = min(maxThreads, 2 * rows * columns / GEMMTuning.parallelGrain, outputs / (transposed ? 64 : 4))
  if threads <= 1 {
    band(0..<outputs)
    return
  }
  parallelFor(iterations: threads, maxThreads: threads) { w in
    if transposed {  // bands of whole 32-column strips, as `gemvTransposed`'s
      let strips = (outputs + 31) / 32
      band(min(outputs, strips * w / threads * 32)..<min(outputs, strips * (w + 1) / threads * 32))
    } else {
      band(outputs * w / threads..<outputs * (w + 1) / threads)
    }
  }
}

private struct GEMVPointers: @unchecked Sendable {
  var matrix: UnsafePointer<Double>, x: UnsafePointer<Double>, y: UnsafeMutablePointer<Double>
}

@inline(__always)
private func load2(_ p: UnsafePointer<Double>, _ i: Int) -> SIMD2<Double> {
  UnsafeRawPointer(p + i).loadUnaligned(as: SIMD2<Double>.self)
}

@inline(__always)
private func store2(_ v: SIMD2<Double>, _ p: UnsafeMutablePointer<Double>, _ i: Int) {
  UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD2<Double>.self)
}

private func gemvRows(
  _ rows: Range<Int>, columns k: Int, matrix: UnsafePointer<Double>,
  x: UnsafePointer<Double>, y: UnsafeMutablePointer<Double>
) {
  #if DEBUG
    // Scalar in debug builds, where SIMD arithmetic is slow (see `referenceMicroKernel`).
    for i in rows {
      let r = matrix + i &* k
      var s0 = 0.0
      var s1 = 0.0
      var s2 = 0.0
      var s3 = 0.0
      var q = 0
      while q &+ 4 <= k {
        s0 += r[q] * x[q]
        s1 += r[q &+ 1] * x[q &+ 1]
        s2 += r[q &+ 2] * x[q &+ 2]
        s3 += r[q &+ 3] * x[q &+ 3]
        q &+= 4
      }
      while q < k {
        s0 += r[q] * x[q]
        q &+= 1
      }
      y[i] = (s0 + s1) + (s2 + s3)
    }
  #else
    var i = rows.lowerBound
    let k2 = k & ~1
    let k4 = k & ~3
    while i &+ 4 <= rows.upperBound {
      let r0 = matrix + i &* k
      let r1 = r0 + k
      let r2 = r1 + k
      let r3 = r2 + k
      // Two accumulators per row: eight independent addition chains, so the loop runs at
      // the adder's throughput rather than its latency.
      var s0 = SIMD2<Double>()
      var s1 = SIMD2<Double>()
      var s2 = SIMD2<Double>()
      var s3 = SIMD2<Double>()
      var u0 = SIMD2<Double>()
      var u1 = SIMD2<Double>()
      var u2 = SIMD2<Double>()
      var u3 = SIMD2<Double>()
      var q = 0
      while q < k4 {
        let v = load2(x, q)
        let w = load2(x, q &+ 2)
        s0 += load2(r0, q) * v
        u0 += load2(r0, q &+ 2) * w
        s1 += load2(r1, q) * v
        u1 += load2(r1, q &+ 2) * w
        s2 += load2(r2, q) * v
        u2 += load2(r2, q &+ 2) * w
        s3 += load2(r3, q) * v
        u3 += load2(r3, q &+ 2) * w
        q &+= 4
      }
      while q < k2 {
        let v = load2(x, q)
        s0 += load2(r0, q) * v
        s1 += load2(r1, q) * v
        s2 += load2(r2, q) * v
        s3 += load2(r3, q) * v
        q &+= 2
      }
      var t0 = (s0 + u0).sum()
      var t1 = (s1 + u1).sum()
      var t2 = (s2 + u2).sum()
      var t3 = (s3 + u3).sum()
      if q < k {
        let v = x[q]
        t0 += r0[q] * v
        t1 += r1[q] * v
        t2 += r2[q] * v
        t3 += r3[q] * v
      }
      y[i] = t0
      y[i &+ 1] = t1
      y[i &+ 2] = t2
      y[i &+ 3] = t3
      i &+= 4
    }
    while i < rows.upperBound {
      let r0 = matrix + i &* k
      var s0 = SIMD2<Double>()
      var s1 = SIMD2<Double>()
      var s2 = SIMD2<Double>()
      var s3 = SIMD2<Double>()
      var q = 0
      while q &+ 8 <= k {
        s0 += load2(r0, q) * load2(x, q)
        s1 += load2(r0, q &+ 2) * load2(x, q &+ 2)
        s2 += load2(r0, q &+ 4) * load2(x, q &+ 4)
        s3 += load2(r0, q &+ 6) * load2(x, q &+ 6)
        q &+= 8
      }
      var t = ((s0 + s1) + (s2 + s3)).sum()
      while q < k {
        t += r0[q] * x[q]
        q &+= 1
      }
      y[i] = t
      i &+= 1
    }
  #endif
}

/// y = M^T x for a row-major `rows` x `columns` matrix M. Strips of 16 columns of y stay in
/// registers while a block of rows of M streams past (a 1 x 16 micro-kernel reading M in
/// place); y is read and written once per block of rows.
private func gemvTransposed(
  rows k: Int, columns: Int, matrix: UnsafePointer<Double>,
  x: UnsafePointer<Double>, y: UnsafeMutablePointer<Double>, maxThreads: Int, path: KernelPath
) {
  let threads = min(maxThreads, k * columns / GEMMTuning.parallelGrain, columns / 64)
  let ptrs = GEMVPointers(matrix: matrix, x: x, y: y)
  // A nested function, not a closure value: the serial call allocates no context.
  @Sendable func band(_ band: Range<Int>) {
    switch path {
    case .reference:
      gemvTransposedColumns(band, rows: k, stride: columns, matrix: ptrs.matrix, x: ptrs.x, y: ptrs.y)
    case .avx2:
      ck_gemv_transposed_avx2(band.lowerBound, band.upperBound, k, columns, ptrs.matrix, ptrs.x, ptrs.y)
    case .avx512:
      ck_gemv_transposed_avx512(band.lowerBound, band.upperBound, k, columns, ptrs.matrix, ptrs.x, ptrs.y)
    }
  }
  if threads <= 1 {
    band(0..<columns)
    return
  }
  parallelFor(iterations: threads, maxThreads: threads) { w in
    // Bands of whole 32-column strips (whole strips for every path).
    let strips = (columns + 31) / 32
    band(min(columns, strips * w / threads * 32)..<min(columns, strips * (w + 1) / threads * 32))
  }
}

private func gemvTransposedColumns(
  _ cols: Range<Int>, rows k: Int, stride ld: Int,
  matrix: UnsafePointer<Double>, x: UnsafePointer<Double>,
  y: UnsafeMutablePointer<Double>
) {
  #if DEBUG
    // Scalar axpy updates in debug builds, where SIMD arithmetic is slow (see `referenceMicroKernel`).
    for j in cols { y[j] = 0 }
    for p in 0..<k {
      let r = matrix + p &* ld
      let v = x[p]
      for j in cols { y[j] += r[j] * v }
    }
  #else
    // Rows per block: the block (about 256 KB) stays in L2 while the strips walk across it.
    let blockRows = max(8, min(512, 32768 / max(ld, 1)))
    var p0 = 0
    while p0 < k {
      let p1 = min(k, p0 &+ blockRows)
      let first = p0 == 0
      var j = cols.lowerBound
      while j &+ 16 <= cols.upperBound {
        var s0 = SIMD2<Double>()
        var s1 = SIMD2<Double>()
        var s2 = SIMD2<Double>()
        var s3 = SIMD2<Double>()
        var s4 = SIMD2<Double>()
        var s5 = SIMD2<Double>()
        var s6 = SIMD2<Double>()
        var s7 = SIMD2<Double>()
        if !first {
          s0 = load2(y, j)
          s1 = load2(y, j &+ 2)
          s2 = load2(y, j &+ 4)
          s3 = load2(y, j &+ 6)
          s4 = load2(y, j &+ 8)
          s5 = load2(y, j &+ 10)
          s6 = load2(y, j &+ 12)
          s7 = load2(y, j &+ 14)
        }
        var r = matrix + (p0 &* ld &+ j)
        for p in p0..<p1 {
          let v = SIMD2<Double>(repeating: x[p])
          s0 += load2(r, 0) * v
          s1 += load2(r, 2) * v
          s2 += load2(r, 4) * v
          s3 += load2(r, 6) * v
          s4 += load2(r, 8) * v
          s5 += load2(r, 10) * v
          s6 += load2(r, 12) * v
          s7 += load2(r, 14) * v
          r += ld
        }
        store2(s0, y, j)
        store2(s1, y, j &+ 2)
        store2(s2, y, j &+ 4)
        store2(s3, y, j &+ 6)
        store2(s4, y, j &+ 8)
        store2(s5, y, j &+ 10)
        store2(s6, y, j &+ 12)
        store2(s7, y, j &+ 14)
        j &+= 16
      }
      // Remaining columns in pairs, four rows per step for independent accumulators.
      while j &+ 2 <= cols.upperBound {
        var s0 = SIMD2<Double>()
        var s1 = SIMD2<Double>()
        var s2 = SIMD2<Double>()
        var s3 = SIMD2<Double>()
        var r = matrix + (p0 &* ld &+ j)
        var p = p0
        while p &+ 4 <= p1 {
          s0 += load2(r, 0) * SIMD2(repeating: x[p])
          s1 += load2(r, ld) * SIMD2(repeating: x[p &+ 1])
          s2 += load2(r, 2 &* ld) * SIMD2(repeating: x[p &+ 2])
          s3 += load2(r, 3 &* ld) * SIMD2(repeating: x[p &+ 3])
          r += 4 &* ld
          p &+= 4
        }
        while p < p1 {
          s0 += load2(r, 0) * SIMD2(repeating: x[p])
          r += ld
          p &+= 1
        }
        var s = (s0 + s1) + (s2 + s3)
        if !first { s += load2(y, j) }
        store2(s, y, j)
        j &+= 2
      }
      if j < cols.upperBound {
        var t0 = 0.0
        var t1 = 0.0
        var r = matrix + (p0 &* ld &+ j)
        var p = p0
        while p &+ 2 <= p1 {
          t0 += r[0] * x[p]
          t1 += r[ld] * x[p &+ 1]
          r += 2 &* ld
          p &+= 2
        }
        if p < p1 { t0 += r[0] * x[p] }
        y[j] = first ? t0 + t1 : y[j] + (t0 + t1)
      }
      p0 = p1
    }
  #endif
}

// MARK: - Small products

/// Direct loops for products too small to amortize packing. The inner loop runs over the
/// longer of k (dot products) and n (row updates).
private func gemmSmall(
  m: Int, n: Int, k: Int,
  a: UnsafePointer<Double>, transposeA: Bool,
  b: UnsafePointer<Double>, transposeB: Bool,
  c: UnsafeMutablePointer<Double>
) {
  // op(A)(i, q) = a[i * ai + q * aq], op(B)(q, j) = b[q * bq + j * bj].
  let ai = transposeA ? 1 : k
  let aq = transposeA ? m : 1
  let bq = transposeB ? 1 : n
  let bj = transposeB ? k : 1
  if k >= n {
    for i in 0..<m {
      let rowA = a + i &* ai
      for j in 0..<n {
        let colB = b + j &* bj
        var s0 = 0.0
        var s1 = 0.0
        var q = 0
        while q &+ 2 <= k {
          s0 += rowA[q &* aq] * colB[q &* bq]
          s1 += rowA[(q &+ 1) &* aq] * colB[(q &+ 1) &* bq]
          q &+= 2
        }
        if q < k { s0 += rowA[q &* aq] * colB[q &* bq] }
        c[i &* n &+ j] = s0 + s1
      }
    }
  } else {
    for i in 0..<m {
      let rowC = c + i &* n
      let rowA = a + i &* ai
      for j in 0..<n { rowC[j] = 0 }
      for q in 0..<k {
        let s = rowA[q &* aq]
        let rowB = b + q &* bq
        for j in 0..<n { rowC[j] += s * rowB[j &* bj] }
      }
    }
  }
}
