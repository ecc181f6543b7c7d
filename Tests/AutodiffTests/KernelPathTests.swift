import CKernels
import Foundation
import TestSupport
import Testing

@testable import Autodiff

/// Every kernel path this machine can run, held to the Swift reference: the GEMM
/// micro-kernels and matrix-vector loops to a naive product, the vectorized exp, log,
/// log1p, sigmoid and softplus to glibc within their stated ulp bounds, at the extremes too.
@Suite("Kernel paths")
struct KernelPathTests {
  /// The micro-kernels whose instructions this CPU has (the reference always; on AVX2
  /// machines the 6 × 8 tile and the 8 × 24 AVX-512 tile's code compiled for AVX2).
  static let kernels = GEMMMicroKernel.allCases.filter { $0.path.isSupported }
  static let paths = KernelPath.allCases.filter(\.isSupported)

  /// Shapes at every tile edge (6, 8, 16, 24), block edge (MC = 120/128, KC = 256) and the
  /// matrix-vector cases (m = 1 or n = 1), some large enough to split across threads.
  static let shapes: [(Int, Int, Int)] = [
    (1, 1, 1), (6, 8, 5), (7, 9, 3), (12, 16, 17), (13, 25, 31), (5, 24, 257), (48, 48, 48),
    (121, 23, 40), (129, 130, 260), (250, 49, 300), (1, 37, 300), (300, 1, 37), (600, 1, 600),
    (1, 600, 600), (45, 1, 1001), (1, 3, 1), (3, 1, 2), (256, 10, 128), (10, 256, 64), (256, 128, 10),
    (2000, 12, 100), (7, 3000, 60), (100, 1, 100), (1, 100, 100), (5, 1, 3), (1, 7, 5), (9, 1, 12), (1, 13, 9),
  ]

  static func product(
    _ a: [Double], _ b: [Double], m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool,
    kernel: GEMMMicroKernel, threads: Int
  ) -> [Double] {
    var c = [Double](repeating: .nan, count: m * n)
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        c.withUnsafeMutableBufferPointer { pc in
          gemm(
            m: m, n: n, k: k, a: pa.baseAddress!, transposeA: transposeA, b: pb.baseAddress!,
            transposeB: transposeB, c: pc.baseAddress!, maxThreads: threads, kernel: kernel)
        }
      }
    }
    return c
  }

  @Test("this CPU's widest path is supported, and the paths' names round-trip")
  func selection() {
    #expect(KernelPath.widestSupported.isSupported)
    #expect(KernelPath.reference.isSupported)
    #expect(KernelPath.current.isSupported)
    for path in KernelPath.allCases { #expect(KernelPath(named: path.description) == path) }
    #expect(KernelPath(named: "sse9") == nil)
  }

  @Test(
    "every supported micro-kernel and matrix-vector path matches the naive product, serial and threaded",
    arguments: [(false, false), (true, false), (false, true), (true, true)])
  func products(transposes: (Bool, Bool)) {
    let (ta, tb) = transposes
    for (index, (m, n, k)) in Self.shapes.enumerated() {
      let a = Tensor(randomNormal: ta ? [k, m] : [m, k], seed: UInt64(index)).scalars
      let b = Tensor(randomNormal: tb ? [n, k] : [k, n], seed: UInt64(index) &+ 100).scalars
      let expected = MatrixMultiplyTests.naive(a, b, m: m, n: n, k: k, transposeA: ta, transposeB: tb)
      for kernel in Self.kernels {
        for threads in [1, 2] {
          let c = Self.product(a, b, m: m, n: n, k: k, transposeA: ta, transposeB: tb, kernel: kernel, threads: threads)
          #expect(
            maxRelativeError(Tensor(shape: [m * n], scalars: c), Tensor(shape: [m * n], scalars: expected)) < 1e-12,
            "\(kernel), m \(m) n \(n) k \(k), transposes \(ta) \(tb), \(threads) threads")
        }
      }
    }
  }

  @Test("a matrix-vector product's vector tail adds no 0 × ∞: an infinite entry gives ∞, not NaN, on every path")
  func matrixVectorTailKeepsInfinity() {
    // The last k mod W columns are the lanes of a vector over columns k − W..<k, whose
    // first lanes (already summed) are masked out: infinities sit in columns k − 4 and
    // k − 8, the first masked lane for W = 4 (AVX2) and W = 8 (AVX-512).
    for k in [7, 12, 13, 21] {
      var m = [Double](repeating: 0.5, count: 4 * k)
      for column in [k - 4, k - 8] where column >= 0 {
        m[column] = .infinity
        m[k + column] = -.infinity
      }
      let x = [Double](repeating: 1, count: k)
      for kernel in Self.kernels {
        let y = Self.product(m, x, m: 4, n: 1, k: k, transposeA: false, transposeB: false, kernel: kernel, threads: 1)
        #expect(
          y[0] == .infinity && y[1] == -.infinity && y[2] == 0.5 * Double(k) && y[3] == 0.5 * Double(k),
          "\(kernel), k \(k): \(y)")
      }
    }
  }

  @Test("narrow products (n ≤ 16 columns, A read in place at any strides) match the naive product on every path")
  func narrowProducts() {
    // (rows, depth, columns, lane stride, step stride): rows of A along the depth (step 1),
    // across it (lane 1), blocks of 8 and 3 rows with and without a remainder, 1...16 columns.
    let cases: [(Int, Int, Int, Int, Int)] = [
      (1, 1, 1, 1, 1), (8, 5, 16, 5, 1), (19, 33, 10, 33, 1), (11, 7, 3, 1, 11), (64, 40, 13, 1, 64),
      (3, 100, 16, 100, 1), (25, 2, 9, 3, 75),
    ]
    let width = GEMMTuning.narrowWidth
    for (index, (rows, depth, columns, lane, step)) in cases.enumerated() {
      let extent = (rows - 1) * lane + (depth - 1) * step + 1
      let a = Tensor(randomNormal: [extent], seed: UInt64(600 + index)).scalars
      var b = Tensor(randomNormal: [depth * width], seed: UInt64(700 + index)).scalars
      for p in 0..<depth { for q in columns..<width { b[p * width + q] = 0 } }
      // C stored transposed (column stride rows) to cover the strided store too.
      let expected = (0..<columns * rows).map { index -> Double in
        let (q, i) = index.quotientAndRemainder(dividingBy: rows)
        return (0..<depth).reduce(0) { $0 + a[i * lane + $1 * step] * b[$1 * width + q] }
      }
      for path in Self.paths {
        var c = [Double](repeating: .nan, count: columns * rows)
        a.withUnsafeBufferPointer { pa in
          b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
              gemmNarrowRows(
                0..<rows, k: depth, a: pa.baseAddress!, step: step, lane: lane, packed: pb.baseAddress!,
                c: pc.baseAddress!, rowStride: 1, columnStride: rows, n: columns, path: path)
            }
          }
        }
        #expect(maxRelativeError(c, expected) < 1e-12, "\(path), case \(index)")
      }
      if KernelPath.avx2.isSupported {  // the AVX-512 code, compiled for AVX2
        var c = [Double](repeating: .nan, count: columns * rows)
        a.withUnsafeBufferPointer { pa in
          b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
              ck_gemm_narrow_8_on_avx2(
                0, rows, depth, pa.baseAddress!, step, lane, pb.baseAddress!, pc.baseAddress!, 1, rows, columns)
            }
          }
        }
        #expect(maxRelativeError(c, expected) < 1e-12, "8 on AVX2, case \(index)")
      }
    }
  }

  /// The matrix-vector kernels of the CKernels paths this machine runs (the AVX-512 code
  /// also compiled for AVX2), by name: (rows, transposed) kernels.
  static var matrixVectorKernels: [(String, RowsKernel, TransposedKernel)] {
    var kernels: [(String, RowsKernel, TransposedKernel)] = []
    if KernelPath.avx2.isSupported {
      kernels.append(("avx2", ck_gemv_rows_avx2, ck_gemv_transposed_avx2))
      kernels.append(("8 on avx2", ck_gemv_rows_8_on_avx2, ck_gemv_transposed_8_on_avx2))
    }
    if KernelPath.avx512.isSupported {
      kernels.append(("avx512", ck_gemv_rows_avx512, ck_gemv_transposed_avx512))
    }
    return kernels
  }
  typealias RowsKernel = (Int, Int, Int, UnsafePointer<Double>?, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?)
    -> Void
  typealias TransposedKernel = (
    Int, Int, Int, Int, UnsafePointer<Double>?, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?
  ) -> Void

  @Test("matrix-vector kernels in bands that start and end anywhere (vector tails, the threads' splits)")
  func matrixVectorBands() {
    // Widths of every residue mod 4 and 8 (the rows kernel groups rows of one alignment:
    // s = 2, 4, 8 rows apart), matrices starting at every place in a cache line.
    let shapes = [(7, 5), (13, 37), (100, 100), (33, 77), (4, 12), (9, 3), (40, 22), (40, 30), (70, 37), (90, 19)]
    for (index, ((rows, columns), offset)) in zip(shapes, [0, 1, 2, 3, 5, 6, 7, 1, 3, 5]).enumerated() {
      let m = Tensor(randomNormal: [rows, columns], seed: UInt64(800 + index)).scalars
      let shifted = [Double](repeating: .nan, count: offset) + m
      let u = Tensor(randomNormal: [columns], seed: UInt64(900 + index)).scalars
      let w = Tensor(randomNormal: [rows], seed: UInt64(950 + index)).scalars
      let mu = (0..<rows).map { i in (0..<columns).reduce(0) { $0 + m[i * columns + $1] * u[$1] } }
      let mtw = (0..<columns).map { j in (0..<rows).reduce(0) { $0 + m[$1 * columns + j] * w[$1] } }
      for (name, rowsKernel, transposedKernel) in Self.matrixVectorKernels {
        var y = [Double](repeating: .nan, count: rows)
        var z = [Double](repeating: .nan, count: columns)
        shifted.withUnsafeBufferPointer { ps in
          let pm = UnsafeBufferPointer(rebasing: ps[offset...])
          u.withUnsafeBufferPointer { pu in
            w.withUnsafeBufferPointer { pw in
              y.withUnsafeMutableBufferPointer { py in
                for (lo, hi) in [(0, rows / 3), (rows / 3, rows)] {
                  rowsKernel(lo, hi, columns, pm.baseAddress, pu.baseAddress, py.baseAddress)
                }
              }
              z.withUnsafeMutableBufferPointer { pz in
                for (lo, hi) in [(0, columns / 2 + 1), (columns / 2 + 1, columns)] where lo < hi {
                  transposedKernel(lo, hi, rows, columns, pm.baseAddress, pw.baseAddress, pz.baseAddress)
                }
              }
            }
          }
        }
        #expect(maxRelativeError(y, mu) < 1e-12, "\(name) rows, \(rows) x \(columns) at offset \(offset)")
        #expect(maxRelativeError(z, mtw) < 1e-12, "\(name) transposed, \(rows) x \(columns) at offset \(offset)")
      }
    }
  }

  @Test("GEMM panels are packed bit for bit as the reference packs them, on every path, for any strides and edges")
  func packing() {
    // (lanes, depth, width, lane stride, step stride): contiguous lanes (a step is a copy),
    // contiguous steps (blocks transposed in registers), neither; whole and partial blocks
    // of lanes and steps, panel widths of both tiles (6, 8, 24).
    let cases: [(Int, Int, Int, Int, Int)] = [
      (1, 1, 8, 1, 1), (8, 8, 8, 9, 1), (24, 16, 24, 40, 1), (10, 128, 24, 130, 1), (29, 19, 8, 19, 1),
      (13, 7, 6, 7, 1), (6, 33, 6, 40, 1), (24, 17, 24, 1, 30), (37, 9, 8, 1, 37), (5, 3, 6, 1, 5),
      (12, 20, 24, 3, 50), (9, 9, 8, 2, 25),
    ]
    for (index, (lanes, depth, width, lane, step)) in cases.enumerated() {
      let extent = (lanes - 1) * lane + (depth - 1) * step + 1
      let source = Tensor(randomNormal: [extent], seed: UInt64(500 + index)).scalars
      let panels = (lanes + width - 1) / width
      func packed(_ path: KernelPath) -> [Double] {
        var out = [Double](repeating: .nan, count: panels * width * depth)
        source.withUnsafeBufferPointer { s in
          out.withUnsafeMutableBufferPointer { d in
            packPanels(
              s.baseAddress!, step: step, lane: lane, lanes: lanes, width: width, depth: depth, copies: 1,
              into: d.baseAddress!, path: path)
          }
        }
        return out
      }
      let reference = packed(.reference)
      // The reference against the definition: panel p, step q, lane r.
      var expected = [Double](repeating: 0, count: panels * width * depth)
      for p in 0..<panels {
        for q in 0..<depth {
          for r in 0..<width where p * width + r < lanes {
            expected[p * width * depth + q * width + r] = source[q * step + (p * width + r) * lane]
          }
        }
      }
      /// The first position where two packings differ (bit patterns: NaN marks an unwritten value).
      func firstDifference(_ x: [Double], _ y: [Double]) -> Int? {
        x.count != y.count ? -1 : x.indices.first { x[$0].bitPattern != y[$0].bitPattern }
      }
      #expect(firstDifference(reference, expected) == nil, "reference, case \(index)")
      for path in Self.paths where path != .reference {
        #expect(firstDifference(packed(path), reference) == nil, "\(path), case \(index)")
      }
      if KernelPath.avx2.isSupported {  // the AVX-512 code, compiled for AVX2
        var out = [Double](repeating: .nan, count: panels * width * depth)
        source.withUnsafeBufferPointer { s in
          out.withUnsafeMutableBufferPointer { d in
            ck_pack_panels_8_on_avx2(s.baseAddress!, step, lane, lanes, width, depth, d.baseAddress!)
          }
        }
        #expect(firstDifference(out, reference) == nil, "8 on AVX2, case \(index)")
      }
    }
  }

  @Test(
    "the matrix-vector pair (a value and its tangent, the matrix read once) matches two naive products on every path",
    arguments: [false, true])
  func matrixVectorPairs(transposed: Bool) {
    for (index, (rows, columns)) in [(1, 1), (3, 5), (7, 33), (45, 1001), (600, 600), (1001, 37), (2, 300)].enumerated()
    {
      let m = Tensor(randomNormal: [rows, columns], seed: UInt64(200 + index)).scalars
      let count = transposed ? rows : columns
      let x1 = Tensor(randomNormal: [count], seed: UInt64(300 + index)).scalars
      let x2 = Tensor(randomNormal: [count], seed: UInt64(400 + index)).scalars
      let outputs = transposed ? columns : rows
      func naive(_ x: [Double]) -> [Double] {
        (0..<outputs).map { o in
          (0..<count).reduce(0) { sum, p in sum + (transposed ? m[p * columns + o] : m[o * columns + p]) * x[p] }
        }
      }
      let (e1, e2) = (naive(x1), naive(x2))
      for path in Self.paths {
        for threads in [1, 2] {
          var y1 = [Double](repeating: .nan, count: outputs)
          var y2 = [Double](repeating: .nan, count: outputs)
          m.withUnsafeBufferPointer { pm in
            x1.withUnsafeBufferPointer { p1 in
              x2.withUnsafeBufferPointer { p2 in
                y1.withUnsafeMutableBufferPointer { q1 in
                  y2.withUnsafeMutableBufferPointer { q2 in
                    gemvPair(
                      rows: rows, columns: columns, matrix: pm.baseAddress!, transposed: transposed,
                      x1: p1.baseAddress!,
                      x2: p2.baseAddress!, y1: q1.baseAddress!, y2: q2.baseAddress!, maxThreads: threads, path: path)
                  }
                }
              }
            }
          }
          #expect(
            maxRelativeError(y1, e1) < 1e-12 && maxRelativeError(y2, e2) < 1e-12,
            "\(path), \(rows) x \(columns), transposed \(transposed), \(threads) threads")
        }
      }
    }
  }

  /// Distance in units in the last place, counting across zero and the subnormals.
  static func ulps(_ a: Double, _ b: Double) -> Double {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN ? 0 : .infinity }
    if a == b { return 0 }
    func ordered(_ x: Double) -> Int64 {
      let bits = Int64(bitPattern: x.bitPattern)
      return bits < 0 ? Int64.min &- bits : bits
    }
    return Double((ordered(a) &- ordered(b)).magnitude)
  }

  /// Arguments spread over each function's whole range, both signs where it has them.
  static func arguments(_ function: VectorFunction) -> [Double] {
    var generator = SeededRandomNumberGenerator(seed: 11)
    let count = 100_000
    return (0..<count).map { i in
      let u = Double.random(in: 0..<1, using: &generator)
      switch function {
      case .exp: return -745.2 + u * (709.8 + 745.2)
      case .log: return Foundation.exp2(-1074 + u * 2097)  // subnormals to the largest finite
      case .log1p:
        // Near −1 (u − 1 for small u), small magnitudes of both signs, and up to 1e300.
        if i % 3 == 0 { return -1 + Foundation.exp2(-53 * u) }
        let magnitude = Foundation.exp2(-1074 + u * 2070)
        return i % 3 == 1 ? magnitude : -Swift.min(magnitude, 0.5)
      case .sigmoid, .softplus:
        let magnitude = i % 2 == 0 ? Foundation.exp2(-60 + u * 70) : u * 800
        return i % 4 < 2 ? magnitude : -magnitude
      case .tanh:
        // Tiny to saturated: 2^-1074 … 2^6, and 0 … 30 uniformly.
        let magnitude = i % 2 == 0 ? Foundation.exp2(-1074 + u * 1080) : u * 30
        return i % 4 < 2 ? magnitude : -magnitude
      }
    }
  }

  /// Largest distance from glibc (whose own error is up to about 1 ulp): the C header's
  /// bounds against the correctly rounded value (1, 1, 2, 3, 3, 3 ulp) hold against glibc too,
  /// as measured over these arguments.
  static let bounds: [VectorFunction: Double] = [.exp: 1, .log: 1, .log1p: 2, .sigmoid: 3, .softplus: 3, .tanh: 3]

  /// The vectorized maps this CPU can run: each path's, and the 8-wide code on AVX2.
  static func maps() -> [(String, (VectorFunction, [Double]) -> [Double])] {
    var maps: [(String, (VectorFunction, [Double]) -> [Double])] = []
    for path in paths where path != .reference {
      maps.append(("\(path)", { f, x in vectorMap(f, Tensor(x), path: path).scalars }))
    }
    if KernelPath.avx2.isSupported {
      maps.append(
        (
          "8-wide on avx2",
          { f, x in
            var y = [Double](repeating: .nan, count: x.count)
            x.withUnsafeBufferPointer { px in
              y.withUnsafeMutableBufferPointer { py in
                ck_map_8_on_avx2(f.rawValue, px.baseAddress!, py.baseAddress!, x.count)
              }
            }
            return y
          }
        ))
    }
    return maps
  }

  @Test(
    "vectorized exp, log, log1p, sigmoid, softplus and tanh stay within their ulp bounds of glibc",
    arguments: VectorFunction.allCases)
  func accuracy(function: VectorFunction) {
    let x = Self.arguments(function)
    let reference = x.map(function.reference)
    #expect(vectorMap(function, Tensor(x), path: .reference).scalars == reference)
    for (name, map) in Self.maps() {
      let y = map(function, x)
      var worst = 0.0
      var worstArgument = 0.0
      for i in x.indices {
        let error = Self.ulps(y[i], reference[i])
        if error > worst { (worst, worstArgument) = (error, x[i]) }
      }
      #expect(worst <= Self.bounds[function]!, "\(function) on \(name): \(worst) ulp at \(worstArgument)")
    }
  }

  @Test("vectorized functions: special values, extremes and every tail length", arguments: VectorFunction.allCases)
  func specialValues(function: VectorFunction) {
    let special: [Double] = [
      0, -0.0, .infinity, -.infinity, .nan, 1, -1, -2, 0.5, 709.78, 709.79, 710, 1e300, -745.13, -745.14, -746,
      -1e300, 1e-17, -1e-17, .leastNonzeroMagnitude, 2.2250738585072014e-308, .leastNormalMagnitude.nextDown, 40, -40,
      800, -800,
    ]
    for (name, map) in Self.maps() {
      let y = map(function, special)
      for (x, value) in zip(special, y) {
        let expected = function.reference(x)
        // Exact where the result is special (0, ±∞, NaN, ±1 saturation); else within the bound.
        if expected.isNaN || expected.isInfinite || expected == 0 || x.isInfinite {
          #expect(
            value.isNaN == expected.isNaN && (expected.isNaN || value == expected)
              && (value != 0 || value.sign == expected.sign),
            "\(function)(\(x)) on \(name): \(value), glibc \(expected)")
        } else {
          #expect(
            Self.ulps(value, expected) <= Self.bounds[function]!,
            "\(function)(\(x)) on \(name): \(value), glibc \(expected)")
        }
      }
      // Lengths 0 to 17 exercise every tail of the 4- and 8-wide loops.
      for n in 0...17 {
        let x = (0..<n).map { Double($0) * 0.37 - 2.5 + (function == .log ? 3 : 0) }
        let y = map(function, x)
        #expect(zip(y, x).allSatisfy { Self.ulps($0, function.reference($1)) <= Self.bounds[function]! })
      }
    }
  }
}

/// The kernel that adds a slice's adjoint into its window of the parent's adjoint.
struct WindowKernelTests {
  @Test("the window kernel adds in place, copying an adjoint that is shared first")
  func windowKernel() {
    let shared = Tensor(shape: [2, 4], scalars: (0..<8).map(Double.init))
    var a = shared
    addIntoWindowKernel(&a, Tensor(shape: [2, 2], scalars: [10, 20, 30, 40]), axis: 1, range: 1..<3)
    #expect(a.scalars == [0, 11, 22, 3, 4, 35, 46, 7])
    #expect(shared.scalars == (0..<8).map(Double.init))
    var unique = Tensor([1, 2, 3, 4, 5]) * 1
    let before = unique.withUnsafeScalars { $0.baseAddress }
    addIntoWindowKernel(&unique, Tensor([10, 20]), axis: 0, range: 3..<5)
    #expect(unique.scalars == [1, 2, 3, 14, 25] && unique.withUnsafeScalars { $0.baseAddress } == before)
    addIntoWindowKernel(&unique, Tensor(shape: [0], scalars: []), axis: 0, range: 2..<2)
    #expect(unique.scalars == [1, 2, 3, 14, 25])
  }

  @Test("the window kernel's vector additions equal the reference loop's, bit for bit, on every path")
  func windowKernelPaths() {
    // (parent shape, axis, range): rows of a matrix, a long vector, a window narrower than
    // a vector call (the reference loop on every path), offsets on and off a cache line.
    let cases: [([Int], Int, Range<Int>)] = [
      ([3, 70], 1, 20..<65), ([1000], 0, 1..<1000), ([1000], 0, 0..<999), ([5, 40], 1, 3..<34), ([4, 9, 5], 1, 2..<9),
    ]
    for (index, (shape, axis, range)) in cases.enumerated() {
      var pieceShape = shape
      pieceShape[axis] = range.count
      let parent = Tensor(randomNormal: TensorShape(shape), seed: UInt64(800 + index))
      let piece = Tensor(randomNormal: TensorShape(pieceShape), seed: UInt64(900 + index))
      var expected = parent
      addIntoWindowKernel(&expected, piece, axis: axis, range: range, path: .reference)
      #expect(
        expected.scalars
          == (parent + padKernel(piece, axis: axis, before: range.lowerBound, after: shape[axis] - range.upperBound))
          .scalars)
      for path in KernelPathTests.paths {
        var a = parent  // shared: one pass into a new buffer
        addIntoWindowKernel(&a, piece, axis: axis, range: range, path: path)
        #expect(a.scalars.map(\.bitPattern) == expected.scalars.map(\.bitPattern), "\(path), case \(index)")
        var unique = Tensor(shape: parent.shape, scalars: parent.scalars)  // alone: in place
        let address = unique.withUnsafeScalars { $0.baseAddress }
        addIntoWindowKernel(&unique, piece, axis: axis, range: range, path: path)
        #expect(unique.scalars.map(\.bitPattern) == expected.scalars.map(\.bitPattern), "\(path), case \(index)")
        #expect(unique.withUnsafeScalars { $0.baseAddress } == address)
        #expect(parent.scalars == Tensor(randomNormal: TensorShape(shape), seed: UInt64(800 + index)).scalars)
      }
    }
  }

  @Test("AddIntoWindow (the traced window add): value, JVP, batched JVP and VJP equal padding and adding")
  func addIntoWindowRules() {
    let (a, b, w) = (randomTensor([3, 5], seed: 90), randomTensor([3, 2], seed: 91), randomTensor([3, 5], seed: 92))
    let fused: ([Tensor]) -> Tensor = { p in apply(AddIntoWindow(axis: 1, range: 2..<4), p[0], p[1]) }
    let plain: ([Tensor]) -> Tensor = { p in p[0] + apply(Pad(axis: 1, before: 2, after: 1), p[1]) }
    expectExactly(fused([a, b]), shape: [3, 5], scalars: plain([a, b]).scalars)
    let (da, db) = (randomTensor([3, 5], seed: 93), randomTensor([3, 2], seed: 94))
    expectClose(
      jvp(at: [a, b], direction: [da, db], of: fused).tangent,
      jvp(at: [a, b], direction: [da, db], of: plain).tangent,
      tolerance: 1e-15)
    expectClose(
      jvp(at: [a, b], direction: [Tensor.zeros([3, 5]), db], of: fused).tangent,
      jvp(at: [a, b], direction: [Tensor.zeros([3, 5]), db], of: plain).tangent, tolerance: 1e-15)
    let (dA, dB) = (randomTensor([4, 3, 5], seed: 95), randomTensor([4, 3, 2], seed: 96))
    expectClose(
      jvp(at: [a, b], directions: [dA, dB], of: fused).tangents,
      jvp(at: [a, b], directions: [dA, dB], of: plain).tangents, tolerance: 1e-15)
    let gradients = gradient(at: [a, b]) { p in (fused(p) * w).sum() }
    expectClose(gradients[0], w, tolerance: 1e-15)
    expectClose(gradients[1], w.slicing(2..<4, alongAxis: 1), tolerance: 1e-15)
  }
}
