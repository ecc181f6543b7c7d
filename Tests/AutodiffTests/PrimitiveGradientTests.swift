import Autodiff
import TestSupport
import Testing

// Every differentiable primitive, checked in reverse mode (gradient,
// valueWithGradient, pullback, valueWithPullback), forward mode (jvp,
// valueWithDifferential) and second order (hvp in every mode against finite
// differences of the AD gradient), all against central finite differences on
// seeded inputs.
//
// Test points are chosen smooth: strictly positive inputs (>= 0.5) for log,
// log1p, sqrt, non-integer pow and division; inputs at least 0.25 away from 0
// for abs and relu, and at least 0.25 away from the other operand for
// max/min, far beyond the finite-difference step of 1e-5.
//
// Non-scalar outputs are reduced to a scalar loss as `sum(f(x) * u)` with a
// seeded random cotangent `u`, so every output entry gets a distinct weight.

/// Relative tolerance for comparisons against finite differences.
private let fdTolerance = 1e-6
/// Tolerance for comparing two AD results that should be the same numbers.
private let sameTolerance = 1e-12

// MARK: - Inputs and constants

private func normal(_ shape: TensorShape, _ seed: UInt64, scale: Double = 1) -> Tensor {
  randomTensor(shape, seed: seed, scale: scale)
}

private func positive(_ shape: TensorShape, _ seed: UInt64) -> Tensor {
  positiveTensor(shape, seed: seed, minimum: 0.5)
}

private func awayFromZero(_ shape: TensorShape, _ seed: UInt64) -> Tensor {
  awayFromZeroTensor(shape, seed: seed, margin: 0.25)
}

/// `base + offset` where every offset entry is at least 0.25 away from zero,
/// so the result never ties with `base` (for max/min).
private func separated(from base: Tensor, seed: UInt64) -> Tensor {
  zipScalars(base, awayFromZero(base.shape, seed), +)
}

/// Fixed operands for unary cases that close over a constant.
private enum Constant {
  static func matrix3x4() -> Tensor { normal([3, 4], 51) }
  static func matrix4x2() -> Tensor { normal([4, 2], 52) }
  static func matrix2x3() -> Tensor { normal([2, 3], 53) }
  static func matrix2x4() -> Tensor { normal([2, 4], 54) }
  static func matrix3x2() -> Tensor { normal([3, 2], 55) }
  static func vector4() -> Tensor { normal([4], 56) }
  static func row4() -> Tensor { normal([4], 57) }

  /// A [3, 4] input whose entries are all >= 0.25 away from the row `row4()`
  /// broadcast over the rows.
  static func separatedFromRow() -> Tensor {
    let row = row4().scalars
    let offsets = awayFromZero([3, 4], 58).scalars
    return makeMatrix(rows: 3, cols: 4) { i, j in row[j] + offsets[i * 4 + j] }
  }
}

// MARK: - Cases

/// A function of one tensor under test, with its input generator.
struct UnaryCase: Sendable, CustomTestStringConvertible {
  let name: String
  let input: @Sendable () -> Tensor
  let f: @Sendable (Tensor) -> Tensor

  init(
    _ name: String,
    input: @escaping @Sendable () -> Tensor,
    _ f: @escaping @Sendable (Tensor) -> Tensor
  ) {
    self.name = name
    self.input = input
    self.f = f
  }

  var testDescription: String { name }
}

/// A function of two tensors under test, with its input generators.
struct BinaryCase: Sendable, CustomTestStringConvertible {
  let name: String
  let lhs: @Sendable () -> Tensor
  let rhs: @Sendable () -> Tensor
  let f: @Sendable (Tensor, Tensor) -> Tensor

  init(
    _ name: String,
    lhs: @escaping @Sendable () -> Tensor,
    rhs: @escaping @Sendable () -> Tensor,
    _ f: @escaping @Sendable (Tensor, Tensor) -> Tensor
  ) {
    self.name = name
    self.lhs = lhs
    self.rhs = rhs
    self.f = f
  }

  var testDescription: String { name }
}

enum UnaryCases {
  static let elementwise: [UnaryCase] = [
    UnaryCase("exp", input: { normal([3, 4], 1) }) { exp($0) },
    UnaryCase("exp of a rank-0 tensor", input: { Tensor(0.3) }) { exp($0) },
    UnaryCase("log", input: { positive([3, 4], 2) }) { log($0) },
    UnaryCase("log1p", input: { positive([3, 4], 3) }) { log1p($0) },
    UnaryCase("sqrt", input: { positive([3, 4], 4) }) { sqrt($0) },
    UnaryCase("abs", input: { awayFromZero([3, 4], 5) }) { abs($0) },
    UnaryCase("tanh", input: { normal([3, 4], 6) }) { tanh($0) },
    UnaryCase("sigmoid", input: { normal([3, 4], 7, scale: 2) }) { sigmoid($0) },
    UnaryCase("softplus", input: { normal([3, 4], 8, scale: 2) }) { softplus($0) },
    UnaryCase("relu", input: { awayFromZero([3, 4], 9) }) { relu($0) },
    UnaryCase("pow(x, 3) on mixed signs", input: { normal([3, 4], 10) }) { pow($0, 3) },
    UnaryCase("pow(x, 2.5)", input: { positive([3, 4], 11) }) { pow($0, 2.5) },
    UnaryCase("pow(x, -1.5)", input: { positive([3, 4], 12) }) { pow($0, -1.5) },
    UnaryCase("pow(x, 0.5)", input: { positive([3, 4], 13) }) { pow($0, 0.5) },
    UnaryCase("prefix negation", input: { normal([3, 4], 14) }) { -$0 },
    UnaryCase("squared", input: { normal([3, 4], 15) }) { $0.squared() },
    UnaryCase("x * x (same tensor twice)", input: { normal([3, 4], 16) }) { $0 * $0 },
  ]

  static let withDouble: [UnaryCase] = [
    UnaryCase("Tensor + Double", input: { normal([3, 4], 21) }) { x in
      let c: Double = 1.7
      return x + c
    },
    UnaryCase("Double + Tensor", input: { normal([3, 4], 22) }) { x in
      let c: Double = 1.7
      return c + x
    },
    UnaryCase("Tensor - Double", input: { normal([3, 4], 23) }) { x in
      let c: Double = 1.7
      return x - c
    },
    UnaryCase("Double - Tensor", input: { normal([3, 4], 24) }) { x in
      let c: Double = 1.7
      return c - x
    },
    UnaryCase("Tensor * Double", input: { normal([3, 4], 25) }) { x in
      let c: Double = -2.5
      return x * c
    },
    UnaryCase("Double * Tensor", input: { normal([3, 4], 26) }) { x in
      let c: Double = -2.5
      return c * x
    },
    UnaryCase("Tensor / Double", input: { normal([3, 4], 27) }) { x in
      let c: Double = 2.5
      return x / c
    },
    UnaryCase("Double / Tensor", input: { positive([3, 4], 28) }) { x in
      let c: Double = 2.5
      return c / x
    },
    UnaryCase("compound assignment += -= *= /=", input: { normal([3, 4], 29) }) { x in
      var y = x
      y += x * x
      y -= 0.5 * x
      y *= x
      y /= x * x + 1.0
      return y
    },
    UnaryCase("compound assignment with a broadcast right-hand side", input: { normal([4], 30) }) { x in
      var y = Tensor.ones([3, 4])
      y *= x
      y += x
      y -= x * x
      return y
    },
  ]

  static let reductions: [UnaryCase] = [
    UnaryCase("sum()", input: { normal([3, 4], 31) }) { $0.sum() },
    UnaryCase("sum(squeezingAxes: 0)", input: { normal([3, 4], 32) }) { $0.sum(squeezingAxes: 0) },
    UnaryCase("sum(squeezingAxes: 1)", input: { normal([3, 4], 33) }) { $0.sum(squeezingAxes: 1) },
    UnaryCase("sum(squeezingAxes: [0, 1])", input: { normal([3, 4], 34) }) { $0.sum(squeezingAxes: [0, 1]) },
    UnaryCase("sum(squeezingAxes: 1) of a rank-3 tensor", input: { normal([2, 3, 4], 35) }) {
      $0.sum(squeezingAxes: 1)
    },
    UnaryCase("sum(alongAxes: 0)", input: { normal([3, 4], 36) }) { $0.sum(alongAxes: 0) },
    UnaryCase("sum(alongAxes: 1)", input: { normal([3, 4], 37) }) { $0.sum(alongAxes: 1) },
    UnaryCase("sum(alongAxes: [0, 1])", input: { normal([3, 4], 38) }) { $0.sum(alongAxes: [0, 1]) },
    UnaryCase("mean()", input: { normal([3, 4], 39) }) { $0.mean() },
    UnaryCase("mean(squeezingAxes: 0)", input: { normal([3, 4], 40) }) { $0.mean(squeezingAxes: 0) },
    UnaryCase("mean(squeezingAxes: 1)", input: { normal([3, 4], 41) }) { $0.mean(squeezingAxes: 1) },
    UnaryCase("logSumExp(squeezingAxes: 0)", input: { normal([3, 4], 42, scale: 2) }) {
      $0.logSumExp(squeezingAxes: 0)
    },
    UnaryCase("logSumExp(squeezingAxes: 1)", input: { normal([3, 4], 43, scale: 2) }) {
      $0.logSumExp(squeezingAxes: 1)
    },
    UnaryCase("softmax(alongAxis: 0)", input: { normal([3, 4], 44, scale: 2) }) { $0.softmax(alongAxis: 0) },
    UnaryCase("softmax(alongAxis: 1)", input: { normal([3, 4], 45, scale: 2) }) { $0.softmax(alongAxis: 1) },
    UnaryCase("norm() of a vector", input: { normal([5], 46) }) { $0.norm() },
    UnaryCase("norm() of a matrix", input: { normal([3, 4], 47) }) { $0.norm() },
  ]

  static let shapes: [UnaryCase] = [
    UnaryCase("transposed()", input: { normal([3, 4], 61) }) { $0.transposed() },
    UnaryCase("reshaped(to: [2, 6])", input: { normal([3, 4], 62) }) { $0.reshaped(to: [2, 6]) },
    UnaryCase("reshaped(to: [12])", input: { normal([3, 4], 63) }) { $0.reshaped(to: [12]) },
    UnaryCase("reshaped(to: [4, 3]) then exp", input: { normal([3, 4], 64) }) { exp($0.reshaped(to: [4, 3])) },
    UnaryCase("gathering(rows:) with repeated rows", input: { normal([3, 4], 65) }) {
      $0.gathering(rows: [2, 0, 2, 1, 2])
    },
    UnaryCase("concatenated(with:alongAxis: 0), variable first", input: { normal([3, 4], 66) }) {
      $0.concatenated(with: Constant.matrix2x4(), alongAxis: 0)
    },
    UnaryCase("concatenated(with:alongAxis: 1), variable second", input: { normal([3, 4], 67) }) {
      Constant.matrix3x2().concatenated(with: $0, alongAxis: 1)
    },
    UnaryCase("broadcasted(to:) from [3, 4] to [2, 3, 4]", input: { normal([3, 4], 68) }) {
      $0.broadcasted(to: [2, 3, 4])
    },
    UnaryCase("broadcasted(to:) from [3, 1] to [3, 4]", input: { normal([3, 1], 69) }) {
      $0.broadcasted(to: [3, 4])
    },
    UnaryCase("broadcasted(to:) from [] to [2, 3]", input: { Tensor(0.7) }) {
      $0.broadcasted(to: [2, 3])
    },
  ]

  static let linearAlgebra: [UnaryCase] = [
    UnaryCase("matmul(x, W)", input: { normal([3, 4], 71) }) { matmul($0, Constant.matrix4x2()) },
    UnaryCase("matmul(A, x)", input: { normal([3, 4], 72) }) { matmul(Constant.matrix2x3(), $0) },
    UnaryCase("matmul(x, v), matrix-vector", input: { normal([3, 4], 73) }) { matmul($0, Constant.vector4()) },
    UnaryCase("matmul(A, x), x a vector", input: { normal([4], 74) }) { matmul(Constant.matrix3x4(), $0) },
    UnaryCase("matmul(x, x^T)", input: { normal([3, 4], 75) }) { matmul($0, $0.transposed()) },
    UnaryCase("dot(x, w)", input: { normal([3, 4], 76) }) { dot($0, Constant.matrix3x4()) },
    UnaryCase("dot(x, x)", input: { normal([5], 77) }) { dot($0, $0) },
  ]

  static let maxMin: [UnaryCase] = [
    UnaryCase("max(x, c)", input: { separated(from: Constant.matrix3x4(), seed: 81) }) {
      max($0, Constant.matrix3x4())
    },
    UnaryCase("max(c, x)", input: { separated(from: Constant.matrix3x4(), seed: 82) }) {
      max(Constant.matrix3x4(), $0)
    },
    UnaryCase("min(x, c)", input: { separated(from: Constant.matrix3x4(), seed: 83) }) {
      min($0, Constant.matrix3x4())
    },
    UnaryCase("min(c, x)", input: { separated(from: Constant.matrix3x4(), seed: 84) }) {
      min(Constant.matrix3x4(), $0)
    },
    UnaryCase("max(x, row) with broadcasting", input: { Constant.separatedFromRow() }) {
      max($0, Constant.row4())
    },
    UnaryCase("min(row, x) with broadcasting", input: { Constant.separatedFromRow() }) {
      min(Constant.row4(), $0)
    },
  ]

  /// Operations beyond the core list: transposed products, slices, permutations,
  /// stacking, log-softmax, negative axes.
  static let extended: [UnaryCase] = [
    UnaryCase("matmul(x^T, W) read transposed", input: { normal([4, 3], 91) }) {
      matmul($0, transposed: true, Constant.matrix4x2())
    },
    UnaryCase("matmul(A, x^T) read transposed", input: { normal([4, 3], 92) }) {
      matmul(Constant.matrix2x3(), transposed: false, $0, transposed: true)
    },
    UnaryCase("matmul(x^T, x^T) both transposed", input: { normal([3, 3], 93) }) {
      matmul($0, transposed: true, $0, transposed: true)
    },
    UnaryCase("matmul(x^T, v) transposed matrix-vector", input: { normal([4, 3], 94) }) {
      matmul($0, transposed: true, Constant.vector4())
    },
    UnaryCase("matmul(v, x) vector-matrix", input: { normal([4, 2], 95) }) { matmul(Constant.vector4(), $0) },
    UnaryCase("slicing rows 1..<3", input: { normal([4, 3], 96) }) { $0.slicing(1..<3) },
    UnaryCase("slicing columns 0..<2 along axis -1", input: { normal([3, 4], 97) }) {
      $0.slicing(0..<2, alongAxis: -1)
    },
    UnaryCase("transposed(permutation: [2, 0, 1])", input: { normal([2, 3, 4], 98) }) {
      $0.transposed(permutation: [2, 0, 1])
    },
    UnaryCase("Tensor(stacking:) of x, 2x, x^2", input: { normal([3], 99) }) {
      Tensor(stacking: [$0, 2 * $0, $0.squared()])
    },
    UnaryCase("Tensor(concatenating:) along axis 1", input: { normal([2, 2], 100) }) {
      Tensor(concatenating: [$0, exp($0), $0 * 3], alongAxis: 1)
    },
    UnaryCase("logSoftmax(alongAxis: -1)", input: { normal([3, 4], 86) }) { $0.logSoftmax(alongAxis: -1) },
    UnaryCase("sum(alongAxes: -1) and mean(alongAxes: 0)", input: { normal([3, 4], 87) }) {
      $0.sum(alongAxes: -1) * $0.mean(alongAxes: 0)
    },
    UnaryCase("gathering(rows:) of a vector", input: { normal([5], 88) }) { $0.gathering(rows: [4, 0, 0, 2]) },
  ]

  static let all: [UnaryCase] = elementwise + withDouble + reductions + shapes + linearAlgebra + maxMin + extended
}

enum BinaryCases {
  static let all: [BinaryCase] = [
    // Addition.
    BinaryCase("[3,4] + [3,4]", lhs: { normal([3, 4], 101) }, rhs: { normal([3, 4], 102) }) { $0 + $1 },
    BinaryCase("[3,4] + [4]", lhs: { normal([3, 4], 103) }, rhs: { normal([4], 104) }) { $0 + $1 },
    BinaryCase("[4] + [3,4]", lhs: { normal([4], 105) }, rhs: { normal([3, 4], 106) }) { $0 + $1 },
    BinaryCase("[3,1] + [1,4]", lhs: { normal([3, 1], 107) }, rhs: { normal([1, 4], 108) }) { $0 + $1 },
    BinaryCase("[] + [3,4]", lhs: { Tensor(0.4) }, rhs: { normal([3, 4], 109) }) { $0 + $1 },
    // Subtraction.
    BinaryCase("[3,4] - [4]", lhs: { normal([3, 4], 111) }, rhs: { normal([4], 112) }) { $0 - $1 },
    BinaryCase("[4] - [3,4]", lhs: { normal([4], 113) }, rhs: { normal([3, 4], 114) }) { $0 - $1 },
    BinaryCase("[3,1] - [1,4]", lhs: { normal([3, 1], 115) }, rhs: { normal([1, 4], 116) }) { $0 - $1 },
    BinaryCase("[3,4] - []", lhs: { normal([3, 4], 117) }, rhs: { Tensor(-0.8) }) { $0 - $1 },
    // Multiplication.
    BinaryCase("[3,4] * [3,4]", lhs: { normal([3, 4], 121) }, rhs: { normal([3, 4], 122) }) { $0 * $1 },
    BinaryCase("[3,1] * [1,4]", lhs: { normal([3, 1], 123) }, rhs: { normal([1, 4], 124) }) { $0 * $1 },
    BinaryCase("[4] * [3,4]", lhs: { normal([4], 125) }, rhs: { normal([3, 4], 126) }) { $0 * $1 },
    BinaryCase("[2,3,4] * [3,1]", lhs: { normal([2, 3, 4], 127) }, rhs: { normal([3, 1], 128) }) { $0 * $1 },
    BinaryCase("[] * [3,4]", lhs: { Tensor(1.3) }, rhs: { normal([3, 4], 129) }) { $0 * $1 },
    // Division (denominators >= 0.5).
    BinaryCase("[3,4] / [3,4]", lhs: { normal([3, 4], 131) }, rhs: { positive([3, 4], 132) }) { $0 / $1 },
    BinaryCase("[3,4] / [3,1]", lhs: { normal([3, 4], 133) }, rhs: { positive([3, 1], 134) }) { $0 / $1 },
    BinaryCase("[4] / [3,4]", lhs: { normal([4], 135) }, rhs: { positive([3, 4], 136) }) { $0 / $1 },
    BinaryCase("[3,1] / [1,4]", lhs: { normal([3, 1], 137) }, rhs: { positive([1, 4], 138) }) { $0 / $1 },
    BinaryCase("[] / [3,4]", lhs: { Tensor(2.2) }, rhs: { positive([3, 4], 139) }) { $0 / $1 },
    // max / min (operands never within 0.25 of each other).
    BinaryCase(
      "max [3,4] [3,4]", lhs: { normal([3, 4], 141) }, rhs: { separated(from: normal([3, 4], 141), seed: 142) }
    ) {
      max($0, $1)
    },
    BinaryCase(
      "min [3,4] [3,4]", lhs: { normal([3, 4], 143) }, rhs: { separated(from: normal([3, 4], 143), seed: 144) }
    ) {
      min($0, $1)
    },
    BinaryCase("max [3,4] [4]", lhs: { Constant.separatedFromRow() }, rhs: { Constant.row4() }) { max($0, $1) },
    BinaryCase("min [4] [3,4]", lhs: { Constant.row4() }, rhs: { Constant.separatedFromRow() }) { min($0, $1) },
    // Linear algebra.
    BinaryCase("matmul [3,4] x [4,2]", lhs: { normal([3, 4], 151) }, rhs: { normal([4, 2], 152) }) { matmul($0, $1) },
    BinaryCase("matmul [2,3] x [3]", lhs: { normal([2, 3], 153) }, rhs: { normal([3], 154) }) { matmul($0, $1) },
    BinaryCase("dot [3,4] . [3,4]", lhs: { normal([3, 4], 155) }, rhs: { normal([3, 4], 156) }) { dot($0, $1) },
    // Concatenation.
    BinaryCase("concatenated [2,3] with [1,3] along 0", lhs: { normal([2, 3], 161) }, rhs: { normal([1, 3], 162) }) {
      $0.concatenated(with: $1, alongAxis: 0)
    },
    BinaryCase("concatenated [2,3] with [2,2] along 1", lhs: { normal([2, 3], 163) }, rhs: { normal([2, 2], 164) }) {
      $0.concatenated(with: $1, alongAxis: 1)
    },
    // A composite using both arguments several times.
    BinaryCase("composite a * exp(b) - a / (b * b + 1)", lhs: { normal([3, 4], 171) }, rhs: { normal([4], 172) }) {
      a, b in
      let growth = a * exp(b)
      let damping = a / (b * b + 1.0)
      return growth - damping
    },
  ]
}

// MARK: - Tests

@Suite("Primitive derivatives against finite differences")
struct PrimitiveGradientTests {
  /// Seeded cotangent with the shape of `f(x)`.
  static func cotangent(like y: Tensor) -> Tensor {
    randomTensor(y.shape, seed: 9001)
  }

  /// Seeded tangent direction with the shape of `x`.
  static func direction(like x: Tensor) -> Tensor {
    randomTensor(x.shape, seed: 9002)
  }

  @Test("Reverse mode: gradient of sum(f(x) * u)", arguments: UnaryCases.all)
  func reverseMode(_ c: UnaryCase) {
    let x = c.input()
    let u = Self.cotangent(like: c.f(x))
    let loss: (Tensor) -> Tensor = { (c.f($0) * u).sum() }
    let expected = numericalGradient(at: x, of: loss)
    let g = gradient(at: x, of: loss)
    expectClose(g, expected, tolerance: fdTolerance, "gradient")
    let (value, g2) = valueWithGradient(at: x, of: loss)
    expectClose(value, loss(x), tolerance: sameTolerance, "valueWithGradient value")
    expectClose(g2, g, tolerance: sameTolerance, "valueWithGradient gradient")
  }

  @Test("Reverse mode: pullback of a cotangent", arguments: UnaryCases.all)
  func pullbackMode(_ c: UnaryCase) {
    let x = c.input()
    let y = c.f(x)
    let u = Self.cotangent(like: y)
    let expected = numericalVJP(at: x, cotangent: u, of: c.f)
    let (value, pb) = valueWithPullback(at: x, of: c.f)
    expectClose(value, y, tolerance: sameTolerance, "valueWithPullback value")
    expectClose(pb(u), expected, tolerance: fdTolerance, "valueWithPullback")
    let pb2 = pullback(at: x, of: c.f)
    expectClose(pb2(u), expected, tolerance: fdTolerance, "pullback")
  }

  @Test("Forward mode: jvp and valueWithDifferential", arguments: UnaryCases.all)
  func forwardMode(_ c: UnaryCase) {
    let x = c.input()
    let v = Self.direction(like: x)
    let y = c.f(x)
    let expected = numericalJVP(at: x, direction: v, of: c.f)
    let (value, tangent) = jvp(at: x, direction: v, of: c.f)
    expectClose(value, y, tolerance: sameTolerance, "jvp value")
    expectClose(tangent, expected, tolerance: fdTolerance, "jvp tangent")
    let (value2, differential) = valueWithDifferential(at: x, of: c.f)
    expectClose(value2, y, tolerance: sameTolerance, "valueWithDifferential value")
    expectClose(differential(v), expected, tolerance: fdTolerance, "differential")
  }

  @Test("Second order: hvp in every mode vs finite differences of the gradient", arguments: UnaryCases.all)
  func secondOrder(_ c: UnaryCase) {
    let x = c.input()
    let u = Self.cotangent(like: c.f(x))
    let v = Self.direction(like: x)
    let loss: (Tensor) -> Tensor = { (c.f($0) * u).sum() }
    let expected = numericalJVP(at: x, direction: v) { gradient(at: $0, of: loss) }
    for mode in HVPMode.allCases {
      let hv = hvp(at: x, direction: v, mode: mode, of: loss)
      expectClose(hv, expected, tolerance: fdTolerance, "hvp \(mode)")
    }
  }

  @Test("Two-argument gradient, with broadcasting reduced to each shape", arguments: BinaryCases.all)
  func binaryReverse(_ c: BinaryCase) {
    let a = c.lhs()
    let b = c.rhs()
    let u = Self.cotangent(like: c.f(a, b))
    let loss: (Tensor, Tensor) -> Tensor = { (c.f($0, $1) * u).sum() }
    let expectedA = numericalGradient(at: a) { loss($0, b) }
    let expectedB = numericalGradient(at: b) { loss(a, $0) }
    let (ga, gb) = gradient(at: a, b, of: loss)
    expectClose(ga, expectedA, tolerance: fdTolerance, "gradient wrt lhs")
    expectClose(gb, expectedB, tolerance: fdTolerance, "gradient wrt rhs")
    let result = valueWithGradient(at: a, b, of: loss)
    expectClose(result.value, loss(a, b), tolerance: sameTolerance, "valueWithGradient value")
    expectClose(result.gradient.0, ga, tolerance: sameTolerance, "valueWithGradient lhs")
    expectClose(result.gradient.1, gb, tolerance: sameTolerance, "valueWithGradient rhs")
  }

  @Test("Pullback in each argument", arguments: BinaryCases.all)
  func binaryPullback(_ c: BinaryCase) {
    let a = c.lhs()
    let b = c.rhs()
    let u = Self.cotangent(like: c.f(a, b))
    let pbA = pullback(at: a) { c.f($0, b) }
    let pbB = pullback(at: b) { c.f(a, $0) }
    expectClose(pbA(u), numericalVJP(at: a, cotangent: u) { c.f($0, b) }, tolerance: fdTolerance, "lhs")
    expectClose(pbB(u), numericalVJP(at: b, cotangent: u) { c.f(a, $0) }, tolerance: fdTolerance, "rhs")
  }

  @Test("Forward mode in each argument", arguments: BinaryCases.all)
  func binaryForward(_ c: BinaryCase) {
    let a = c.lhs()
    let b = c.rhs()
    let y = c.f(a, b)
    let va = randomTensor(a.shape, seed: 9003)
    let vb = randomTensor(b.shape, seed: 9004)
    let (valueA, tangentA) = jvp(at: a, direction: va) { c.f($0, b) }
    let (valueB, tangentB) = jvp(at: b, direction: vb) { c.f(a, $0) }
    expectClose(valueA, y, tolerance: sameTolerance, "value (lhs pass)")
    expectClose(valueB, y, tolerance: sameTolerance, "value (rhs pass)")
    expectClose(tangentA, numericalJVP(at: a, direction: va) { c.f($0, b) }, tolerance: fdTolerance, "lhs")
    expectClose(tangentB, numericalJVP(at: b, direction: vb) { c.f(a, $0) }, tolerance: fdTolerance, "rhs")
  }

  @Test("Second order in each argument and mixed partials", arguments: BinaryCases.all)
  func binarySecondOrder(_ c: BinaryCase) {
    let a = c.lhs()
    let b = c.rhs()
    let u = Self.cotangent(like: c.f(a, b))
    let va = randomTensor(a.shape, seed: 9005)
    let lossA: (Tensor) -> Tensor = { (c.f($0, b) * u).sum() }
    let expectedA = numericalJVP(at: a, direction: va) { gradient(at: $0, of: lossA) }
    for mode in HVPMode.allCases {
      expectClose(
        hvp(at: a, direction: va, mode: mode, of: lossA), expectedA, tolerance: fdTolerance, "hvp lhs \(mode)")
    }
    // Mixed partial: d/da <d/db loss(a, b), w> along va.
    let w = randomTensor(b.shape, seed: 9006)
    let mixed: (Tensor) -> Tensor = { aa in
      let gb = gradient(at: b) { bb in (c.f(aa, bb) * u).sum() }
      return (gb * w).sum()
    }
    let expectedMixed = numericalGradient(at: a, of: mixed)
    expectClose(gradient(at: a, of: mixed), expectedMixed, tolerance: fdTolerance, "mixed partial")
  }
}
