import CKernels
import Foundation
import Testing

@testable import Autodiff

/// The unfused elementwise primitives' vector loops (`ck_elementwise_*`), on every path this
/// machine runs, held bit for bit to the Swift loops they replace: every operation, every
/// tail length, special values, in place.
@Suite("Vector elementwise kernels")
struct VectorElementwiseTests {
  /// The Swift loop's value of `operation` (the reference).
  static func reference(_ operation: VectorElementwise, _ a: Double, _ b: Double, _ s: Double) -> Double {
    switch operation {
    case .add: a + b
    case .subtract: a - b
    case .multiply: a * b
    case .divide: a / b
    case .addScalar: a + s
    case .subtractScalar: a - s
    case .multiplyScalar: a * s
    case .divideScalar: a / s
    case .scalarMinus: s - a
    case .scalarOver: s / a
    case .negate: -a
    case .square: a * a
    case .scaledMultiply: (s * a) * b
    }
  }

  /// The loops this CPU can run: each vector path's, and the 8-wide code compiled for AVX2.
  static func kernels() -> [(String, (VectorElementwise, [Double], [Double], Double, Bool) -> [Double])] {
    func run(
      _ body:
        @escaping (Int32, UnsafePointer<Double>, UnsafePointer<Double>, Double, UnsafeMutablePointer<Double>, Int)
        -> Void
    ) -> (VectorElementwise, [Double], [Double], Double, Bool) -> [Double] {
      { operation, a, b, s, inPlace in
        var y = inPlace ? a : [Double](repeating: .nan, count: a.count)
        let copyA = a
        copyA.withUnsafeBufferPointer { pa in
          b.withUnsafeBufferPointer { pb in
            y.withUnsafeMutableBufferPointer { py in
              guard let x = pa.baseAddress, let z = pb.baseAddress, let out = py.baseAddress else { return }
              body(operation.rawValue, inPlace ? UnsafePointer(out) : x, z, s, out, a.count)
            }
          }
        }
        return y
      }
    }
    var kernels: [(String, (VectorElementwise, [Double], [Double], Double, Bool) -> [Double])] = []
    for path in KernelPath.allCases where path != .reference && path.isSupported {
      kernels.append(
        (
          "\(path)",
          run { op, a, b, s, y, n in
            #expect(vectorElementwise(VectorElementwise(rawValue: op)!, a, b, scalar: s, y, count: n, path: path))
          }
        ))
    }
    if KernelPath.avx2.isSupported {
      kernels.append(("8-wide on avx2", run { ck_elementwise_8_on_avx2($0, $1, $2, $3, $4, $5) }))
    }
    return kernels
  }

  /// Operands with zeros of both signs, infinities, NaN, subnormals, huge and tiny values.
  static func operands(_ n: Int, seed: UInt64) -> [Double] {
    let special: [Double] = [
      0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, -.leastNormalMagnitude, .greatestFiniteMagnitude,
      1e-300, -1e300, 3, -2.5,
    ]
    var generator = SeededRandomNumberGenerator(seed: seed)
    return (0..<n).map { i in
      i % 5 == 3 ? special[(i / 5) % special.count] : Double.random(in: -4...4, using: &generator)
    }
  }

  @Test(
    "every operation equals the Swift loop bit for bit, at every tail length and in place",
    arguments: VectorElementwise.allCases)
  func matchesReference(operation: VectorElementwise) {
    let kernels = Self.kernels()
    // The last count is split across the worker threads (`forEachElementwisePiece`).
    for n in Array(32...72) + [1000, 1003, 2 * elementwiseParallelGrain + 13] {
      let a = Self.operands(n, seed: UInt64(n))
      let b = Self.operands(n, seed: UInt64(n) + 1000)
      for s in [1.5, -0.0, Double.infinity, Double.nan] {
        let expected = (0..<n).map { Self.reference(operation, a[$0], b[$0], s) }
        for (name, kernel) in kernels {
          for inPlace in [false, true] {
            let actual = kernel(operation, a, b, s, inPlace)
            let mismatch = (0..<n).first { i in
              !(actual[i].bitPattern == expected[i].bitPattern || (actual[i].isNaN && expected[i].isNaN))
            }
            #expect(
              mismatch == nil,
              "\(operation) on \(name), n = \(n), s = \(s), in place \(inPlace): at \(mismatch ?? -1) \(mismatch.map { actual[$0] } ?? 0) vs \(mismatch.map { expected[$0] } ?? 0)"
            )
          }
        }
      }
    }
  }

  @Test("below the minimum count and on the reference path nothing is written (the Swift loop runs)")
  func declines() {
    var y = [Double](repeating: 7, count: 40)
    let a = [Double](repeating: 1, count: 40)
    a.withUnsafeBufferPointer { pa in
      y.withUnsafeMutableBufferPointer { py in
        #expect(
          !vectorElementwise(.add, pa.baseAddress!, pa.baseAddress!, py.baseAddress!, count: 40, path: .reference))
        #expect(
          !vectorElementwise(
            .add, pa.baseAddress!, pa.baseAddress!, py.baseAddress!, count: vectorElementwiseMinimum - 1))
      }
    }
    #expect(y.allSatisfy { $0 == 7 })
  }

  @Test("the primitives give the same values as the reference loops: arithmetic, broadcast scalars, scaled products")
  func primitives() {
    let x = Tensor(shape: [40, 25], scalars: Self.operands(1000, seed: 1))
    let y = Tensor(shape: [40, 25], scalars: Self.operands(1000, seed: 2))
    let s = Tensor(-1.75)
    let pairs: [(String, Tensor, (Double, Double) -> Double)] = [
      ("x + y", x + y, { $0 + $1 }), ("x - y", x - y, { $0 - $1 }), ("x * y", x * y, { $0 * $1 }),
      ("x / y", x / y, { $0 / $1 }),
    ]
    for (name, value, f) in pairs {
      let expected = zip(x.scalars, y.scalars).map(f)
      #expect(
        zip(value.scalars, expected).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }, "\(name)")
    }
    let scalarCases: [(String, Tensor, (Double) -> Double)] = [
      ("x + s", x + s, { $0 + -1.75 }), ("s + x", s + x, { -1.75 + $0 }), ("x - s", x - s, { $0 - -1.75 }),
      ("s - x", s - x, { -1.75 - $0 }), ("x * s", x * s, { $0 * -1.75 }), ("s * x", s * x, { -1.75 * $0 }),
      ("x / s", x / s, { $0 / -1.75 }), ("s / x", s / x, { -1.75 / $0 }), ("x + 0.5", x + 0.5, { $0 + 0.5 }),
      ("0.5 - x", 0.5 - x, { 0.5 - $0 }), ("x * 3", x * 3, { $0 * 3 }), ("x / 3", x / 3, { $0 / 3 }),
      ("3 / x", 3 / x, { 3 / $0 }), ("-x", -x, { -$0 }), ("x²", x.squared(), { $0 * $0 }),
    ]
    for (name, value, f) in scalarCases {
      let expected = x.scalars.map(f)
      #expect(
        zip(value.scalars, expected).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }, "\(name)")
    }
    // The product rule's scaled product: 2 x dx under a JVP of x².
    let (_, tangent) = jvp(at: x, direction: y) { $0.squared() }
    let expected = zip(x.scalars, y.scalars).map { (2 * $1) * $0 }
    #expect(zip(tangent.scalars, expected).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) })
  }
}
