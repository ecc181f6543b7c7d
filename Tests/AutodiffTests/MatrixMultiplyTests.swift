import Autodiff
import Foundation
import Synchronization
import TestSupport
import Testing

/// The blocked, packed, threaded matrix multiply against a naive triple loop, on shapes
/// at every block edge and every transpose combination.
@Suite("Matrix multiply kernel")
struct MatrixMultiplyTests {
  static let shapes: [(Int, Int, Int)] = [
    (0, 3, 4), (3, 0, 4), (3, 4, 0), (1, 1, 1), (1, 17, 3), (17, 1, 3), (3, 17, 1), (17, 3, 255), (255, 17, 3),
    (33, 257, 9), (130, 70, 260), (129, 129, 129), (300, 10, 64), (10, 300, 64),
  ]

  static func naive(_ a: [Double], _ b: [Double], m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool)
    -> [Double]
  {
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
      for j in 0..<n {
        var s = 0.0
        for p in 0..<k {
          let x = transposeA ? a[p * m + i] : a[i * k + p]
          let y = transposeB ? b[j * k + p] : b[p * n + j]
          s += x * y
        }
        c[i * n + j] = s
      }
    }
    return c
  }

  @Test(
    "every shape and transpose combination matches the naive product",
    arguments: [(false, false), (true, false), (false, true), (true, true)])
  func shapes(transposes: (Bool, Bool)) {
    let (ta, tb) = transposes
    for (index, (m, n, k)) in Self.shapes.enumerated() {
      let a = Tensor(randomNormal: ta ? [k, m] : [m, k], seed: UInt64(index))
      let b = Tensor(randomNormal: tb ? [n, k] : [k, n], seed: UInt64(index) &+ 100)
      let product = matmul(a, transposed: ta, b, transposed: tb)
      #expect(product.shape == [m, n])
      let expected = Self.naive(a.scalars, b.scalars, m: m, n: n, k: k, transposeA: ta, transposeB: tb)
      #expect(maxRelativeError(product.scalars, expected) < 1e-12, "m \(m) n \(n) k \(k) transposes \(ta) \(tb)")
    }
  }

  @Test(
    "matrix-vector products (square, rectangular, empty; A or Aᵀ) match the naive product", arguments: [false, true])
  func matrixVector(transposed: Bool) {
    for (index, (rows, columns)) in [(0, 3), (3, 0), (1, 1), (5, 5), (7, 3), (3, 7), (100, 100), (64, 130)].enumerated()
    {
      let a = Tensor(randomNormal: [rows, columns], seed: UInt64(40 + index))
      let count = transposed ? rows : columns
      let v = Tensor(randomNormal: [count], seed: UInt64(60 + index))
      let product = matmul(a, transposed: transposed, v)
      let outputs = transposed ? columns : rows
      #expect(product.shape == [outputs], "\(rows) x \(columns), transposed \(transposed)")
      let expected = Self.naive(
        a.scalars, v.scalars, m: outputs, n: 1, k: count, transposeA: transposed, transposeB: false)
      #expect(maxRelativeError(product.scalars, expected) < 1e-12, "\(rows) x \(columns), transposed \(transposed)")
    }
  }

  @Test("one thread and all threads give the same product")
  func threads() {
    let a = Tensor(randomNormal: [200, 150], seed: 1)
    let b = Tensor(randomNormal: [150, 180], seed: 2)
    let all = matmul(a, b)
    let saved = Parallelism.maximumThreads
    Parallelism.maximumThreads = 1
    let one = matmul(a, b)
    Parallelism.maximumThreads = saved
    #expect(maxRelativeError(one.scalars, all.scalars) < 1e-13)
  }

  @Test(
    "the worker pool: back-to-back threaded products, and several threads at once, give the serial result bit for bit")
  func workerPool() {
    let a = Tensor(randomNormal: [600, 600], seed: 3)
    let v = Tensor(randomNormal: [600], seed: 4)
    let b = Tensor(randomNormal: [600, 40], seed: 5)
    let saved = Parallelism.maximumThreads
    Parallelism.maximumThreads = 1
    let serialVector = matmul(a, v).scalars
    let serialTransposed = matmul(v.reshaped(to: [1, 600]), a).scalars
    let serialMatrix = matmul(a, b).scalars
    Parallelism.maximumThreads = saved
    // Many short loops in a row: each hands work to helpers that are still spinning.
    var mismatches = 0
    for _ in 0..<300
    where matmul(a, v).scalars != serialVector || matmul(v.reshaped(to: [1, 600]), a).scalars != serialTransposed {
      mismatches += 1
    }
    #expect(mismatches == 0)
    // Four threads competing for the pool: one owns it at a time, the others run alone.
    let failures = Mutex(0)
    DispatchQueue.concurrentPerform(iterations: 4) { worker in
      for _ in 0..<40 where matmul(a, b).scalars != serialMatrix || matmul(a, v).scalars != serialVector {
        failures.withLock { $0 += 1 }
      }
    }
    #expect(failures.withLock { $0 } == 0)
  }
}
