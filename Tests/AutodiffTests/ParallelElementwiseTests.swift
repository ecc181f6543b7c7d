import CKernels
import Foundation
import Testing

@testable import Autodiff

/// Large elementwise work split across the worker threads: fused programs in pieces that
/// depend on the count alone, unfused kernels in one piece per thread. The values must not
/// depend on the split nor on the number of threads, and must equal the single-piece
/// reference; sums are added piece by piece in order.
@Suite("Elementwise work on several threads")
struct ParallelElementwiseTests {
  /// `body` with `Parallelism.maximumThreads` set to `threads`, then restored.
  static func withThreads<T>(_ threads: Int, _ body: () -> T) -> T {
    let saved = Parallelism.maximumThreads
    Parallelism.maximumThreads = threads
    defer { Parallelism.maximumThreads = saved }
    return body()
  }

  @Test("pieces cover the values in order, whole units but the last, an even number from twice the grain")
  func pieces() {
    let grain = elementwiseParallelGrain
    for (total, unit) in [
      (1, 8), (100, 8), (2 * grain - 1, 8), (2 * grain, 8), (99_999, 8), (100_000, 100), (300_007, 3000), (40_000, 1),
      (70_000, 35_000), (70_000, 70_000),
    ] {
      let pieces = ElementwisePieces(total: total, unit: unit)
      let wanted = total >= 2 * grain ? 2 * (total / (2 * grain)) : 1
      #expect(pieces.count == max(1, min(wanted, total / unit)), "\(total), \(unit)")
      var next = 0
      for i in 0..<pieces.count {
        let piece = pieces[i]
        #expect(piece.lowerBound == next && !piece.isEmpty, "\(total), \(unit), piece \(i)")
        if i < pieces.count - 1 { #expect(piece.count % unit == 0) }
        if pieces.count > 1 { #expect(piece.count >= grain - unit) }
        next = piece.upperBound
      }
      #expect(next == total)
    }
  }

  @Test("a large program: values bit for bit and sums to rounding as the reference, the same on one thread or two")
  func largePrograms() {
    // Arithmetic only (the same IEEE operations on every path), a full input, a tile of 250
    // values (rows) and a scalar; 2 × 40000 values.
    let f = ElementwiseFunction { x, t, s in (x * t - s).squared() * 0.5 + x / (t * t + 1) - (3 - x) * s }
    let x = Tensor(randomNormal: [160, 500], seed: 71)
    let t = Tensor(randomNormal: [500], seed: 72)
    let s = Tensor(1.25)
    let shape: TensorShape = [160, 500]
    #expect(ElementwisePieces(total: 80_000, unit: 500).count == 4)
    let program = f.program
    let expected = evaluateElementwiseProgram(program, [x, t, s], shape: shape, path: .reference)[0]
    let expectedSum = evaluateElementwiseProgram(program, [x, t, s], shape: shape, summing: true, path: .reference)[0]
    // The unfused expression, value by value.
    let plain = ((x * t - s).squared() * 0.5 + x / (t * t + 1) - (3 - x) * s)
    #expect(expected.scalars == plain.scalars)
    #expect(
      Swift.abs(expectedSum.scalar - plain.scalars.reduce(0, +)) <= 1e-9 * plain.scalars.map(Swift.abs).reduce(0, +))
    for path in KernelPath.allCases where path.isSupported {
      var sums: [Double] = []
      for threads in [1, 2] {
        let (values, sum) = Self.withThreads(threads) {
          (
            evaluateElementwiseProgram(program, [x, t, s], shape: shape, path: path)[0],
            evaluateElementwiseProgram(program, [x, t, s], shape: shape, summing: true, path: path)[0]
          )
        }
        #expect(values.scalars.map(\.bitPattern) == expected.scalars.map(\.bitPattern), "\(path), \(threads) threads")
        sums.append(sum.scalar)
      }
      // A block's sum adds the vector's lanes in another order than the reference's loop:
      // the paths agree to rounding, and each path with itself on any number of threads.
      #expect(sums[0].bitPattern == sums[1].bitPattern, "\(path)")
      #expect(Swift.abs(sums[0] - expectedSum.scalar) <= 1e-13 * Swift.abs(expectedSum.scalar), "\(path)")
    }
  }

  @Test("large unfused maps and transcendental functions do not depend on the threads")
  func largeKernels() {
    let n = 2 * elementwiseParallelGrain + 5
    let a = Tensor(randomNormal: [n], seed: 73)
    let b = Tensor(randomNormal: [n], seed: 74)
    func compute() -> [Tensor] {
      [a * b, a - 2, (-a).squared(), exp(a), tanh(b), log1p(a.squared())]
    }
    let one = Self.withThreads(1) { compute() }
    let two = Self.withThreads(2) { compute() }
    for (x, y) in zip(one, two) { #expect(x.scalars.map(\.bitPattern) == y.scalars.map(\.bitPattern)) }
    // The split ones equal the value-by-value loops.
    #expect(two[0].scalars == zip(a.scalars, b.scalars).map { $0 * $1 })
    #expect(two[1].scalars == a.scalars.map { $0 - 2 })
    let reference = KernelPath.current == .reference ? one[3] : vectorMap(.exp, a, path: .reference)
    #expect(zip(two[3].scalars, reference.scalars).allSatisfy { Swift.abs($0 - $1) <= 4e-16 * Swift.abs($1) })
  }

  @Test("large sums and dot products: piece by piece in order, the same on one thread or two")
  func largeReductions() {
    let n = 2 * elementwiseParallelGrain + 5
    let a = Tensor(randomNormal: [n], seed: 75)
    let b = Tensor(randomNormal: [n], seed: 76)
    let one = Self.withThreads(1) { (a.sum().scalar, dot(a, b).scalar) }
    let two = Self.withThreads(2) { (a.sum().scalar, dot(a, b).scalar) }
    #expect(one.0.bitPattern == two.0.bitPattern && one.1.bitPattern == two.1.bitPattern)
    // The pieces' values, added in order.
    let pieces = ElementwisePieces(total: n, unit: 8)
    #expect(pieces.count == 2)
    var (sum, product) = (0.0, 0.0)
    a.withUnsafeScalars { pa in
      b.withUnsafeScalars { pb in
        for i in 0..<pieces.count {
          let piece = pieces[i]
          sum += contiguousSum(pa.baseAddress! + piece.lowerBound, count: piece.count)
          product += contiguousDot(
            pa.baseAddress! + piece.lowerBound, pb.baseAddress! + piece.lowerBound, count: piece.count)
        }
      }
    }
    #expect(two.0.bitPattern == sum.bitPattern && two.1.bitPattern == product.bitPattern)
    // The same values sum to the same bits as a whole tensor and as a row of a matrix.
    let rows = Tensor(stacking: [b, a, b])
    let rowSums = rows.sum(squeezingAxes: 1).scalars
    #expect(rowSums[1].bitPattern == two.0.bitPattern && rowSums[0].bitPattern == b.sum().scalar.bitPattern)
    let plain = zip(a.scalars, b.scalars).map { $0 * $1 }.reduce(0, +)
    #expect(Swift.abs(two.1 - plain) <= 1e-12 * zip(a.scalars, b.scalars).map { Swift.abs($0 * $1) }.reduce(0, +))
  }

  @Test("the product rule in one pass equals the three unfused operations bit for bit, on every path")
  func productRuleKernel() {
    for n in [5, 40, 1003, 2 * elementwiseParallelGrain + 3] {
      let (a, b, c, d) = (
        Tensor(randomNormal: [n], seed: 81), Tensor(randomNormal: [n], seed: 82), Tensor(randomNormal: [n], seed: 83),
        Tensor(randomNormal: [n], seed: 84)
      )
      for scale in [1.0, 2.0, -0.5] {
        let expected = zip(zip(a.scalars, b.scalars), zip(c.scalars, d.scalars)).map { p, q in
          (scale * p.0) * p.1 + (scale * q.0) * q.1
        }
        for path in KernelPath.allCases where path.isSupported {
          let y = productRule(a, b, c, d, scale: scale, shape: [n], path: path)
          #expect(y?.scalars.map(\.bitPattern) == expected.map(\.bitPattern), "n = \(n), scale \(scale), \(path)")
        }
      }
      // Not constants of the one shape: nothing computed.
      #expect(productRule(a, b, c, Tensor(1.0), scale: 1, shape: [n]) == nil)
      _ = gradient(at: a) { x in
        #expect(productRule(x, b, c, d, scale: 1, shape: [n]) == nil)
        return x.sum()
      }
    }
    if KernelPath.avx2.isSupported {  // the 8-wide source compiled for AVX2
      let n = 43
      let a: [Double] = (0..<n).map { Double($0) * 0.3 - 4 }
      let b: [Double] = (0..<n).map { 1 / Double($0 + 1) }
      let c = [Double](repeating: -0.0, count: n)
      let d: [Double] = (0..<n).map { Double($0 % 7) }
      var y = [Double](repeating: .nan, count: n)
      y.withUnsafeMutableBufferPointer { ck_product_rule_8_on_avx2(a, b, c, d, 1.5, $0.baseAddress!, n) }
      var expected: [UInt64] = []
      for i in 0..<n {
        let first: Double = (1.5 * a[i]) * b[i]
        let second: Double = (1.5 * c[i]) * d[i]
        expected.append((first + second).bitPattern)
      }
      #expect(y.map(\.bitPattern) == expected)
    }
  }
}
