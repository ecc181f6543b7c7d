import CKernels
import Foundation
import TestSupport
import Testing

@testable import Autodiff

// Fused elementwise functions (`ElementwiseFunction`): each case is written twice, fused
// and with `Tensor` operations, and every derivative is checked three ways: against the
// unfused expression (value, gradient, JVP, batched JVP, the three HVP modes and the dense
// Hessian, and a third-order derivative), against central finite differences, and across
// modes; Rosenbrock's gradient also against its closed form. Then the programs themselves
// (simplification, the derived rules' size), the evaluator's layouts and block edges, the
// kernel paths, and the errors.

typealias E = ElementwiseExpression

/// Fused and unfused run the same scalar functions in another order.
private let agreement = 1e-12
/// AD against central finite differences.
private let fdTolerance = 1e-6

/// One function of several tensors, fused and unfused, with its inputs.
struct FusedCase: Sendable, CustomTestStringConvertible {
  let name: String
  let shapes: [[Int]]
  /// Positive inputs (for log, sqrt, division).
  let positive: Bool
  let fused: ElementwiseFunction
  let plain: @Sendable ([Tensor]) -> Tensor
  var testDescription: String { name }

  /// The inputs packed into one vector, at a seeded point.
  var point: Tensor {
    let count = shapes.map { $0.reduce(1, *) }.reduce(0, +)
    return positive ? positiveTensor([count], seed: 41, minimum: 0.3) : randomTensor([count], seed: 41)
  }

  /// The inputs unpacked from the vector.
  func inputs(_ x: Tensor) -> [Tensor] {
    var start = 0
    return shapes.map { shape in
      let count = shape.reduce(1, *)
      defer { start += count }
      return x.slicing(start..<(start + count)).reshaped(to: shape)
    }
  }

  /// A scalar objective of the packed vector: Σ w ⊙ f(inputs), fixed weights w.
  func objective(fusedForm: Bool) -> @Sendable (Tensor) -> Tensor {
    let this = self
    return { x in
      let parts = this.inputs(x)
      let y = fusedForm ? this.fused(parts) : this.plain(parts)
      let weights = Tensor(shape: y.shape, scalars: (0..<y.scalarCount).map { 1 + 0.1 * Double($0 % 7) })
      return (y * weights).sum()
    }
  }
}

enum FusedCases {
  static let rosenbrock = FusedCase(
    name: "Rosenbrock terms", shapes: [[9], [9]], positive: false,
    fused: ElementwiseFunction { a, b in 100 * (b - a.squared()).squared() + (1 - a).squared() },
    plain: { x in 100 * (x[1] - x[0].squared()).squared() + (1 - x[0]).squared() })

  static let unary = FusedCase(
    name: "every unary function", shapes: [[5]], positive: true,
    fused: ElementwiseFunction { x in
      exp(x) * 0.1 + log(x) - log1p(x) / 2 + tanh(x) * sigmoid(x) + softplus(-x) + sqrt(x) + abs(x - 1)
        + relu(x - 0.8) + pow(x, 3) - 1 / x + (-x).squared()
    },
    plain: { p in
      let x = p[0]
      return exp(x) * 0.1 + log(x) - log1p(x) / 2 + tanh(x) * sigmoid(x) + softplus(-x) + sqrt(x) + abs(x - 1)
        + relu(x - 0.8) + pow(x, 3) - 1 / x + (-x).squared()
    })

  static let broadcasting = FusedCase(
    name: "broadcasting: full, tile, scalar, column", shapes: [[3, 4], [4], [], [3, 1]], positive: true,
    fused: ElementwiseFunction(arity: 4) { v in v[0] * v[1] + v[2] / v[3] - tanh(v[0] - v[3]) * v[2] },
    plain: { v in v[0] * v[1] + v[2] / v[3] - tanh(v[0] - v[3]) * v[2] })

  static let logistic = FusedCase(
    name: "logistic loss terms softplus(z) − y z", shapes: [[6], [6]], positive: false,
    fused: ElementwiseFunction { z, y in softplus(z) - y * z },
    plain: { v in softplus(v[0]) - v[1] * v[0] })

  static let unusedInput = FusedCase(
    name: "an input the value does not depend on", shapes: [[4], [4], [4]], positive: false,
    fused: ElementwiseFunction { a, _, c in a * c + 2 },
    plain: { v in v[0] * v[2] + 2 + 0 * v[1] })

  static let all = [rosenbrock, unary, broadcasting, logistic, unusedInput]
}

@Suite("Fused elementwise functions")
struct FusedElementwiseTests {
  @Test("value, gradient, JVP and batched JVP equal the unfused expression's", arguments: FusedCases.all)
  func firstOrder(_ c: FusedCase) {
    let x = c.point
    let fused = c.objective(fusedForm: true)
    let plain = c.objective(fusedForm: false)
    expectClose(c.fused(c.inputs(x)), c.plain(c.inputs(x)), tolerance: 1e-14, "value")
    expectClose(gradient(at: x, of: fused), gradient(at: x, of: plain), tolerance: agreement, "gradient")
    let v = randomTensor(x.shape, seed: 42)
    let f = { x in c.fused(c.inputs(x)) }
    let g = { x in c.plain(c.inputs(x)) }
    expectClose(jvp(at: x, direction: v, of: f).tangent, jvp(at: x, direction: v, of: g).tangent, tolerance: agreement)
    let directions = randomTensor([3] + x.shape, seed: 43)
    expectClose(
      jvp(at: x, directions: directions, of: f).tangents, jvp(at: x, directions: directions, of: g).tangents,
      tolerance: agreement, "batched")
    expectClose(gradient(at: x, of: fused), numericalGradient(at: x, of: fused), tolerance: fdTolerance, "FD")
  }

  @Test("the three HVP modes and the dense Hessian agree with the unfused Hessian", arguments: FusedCases.all)
  func secondOrder(_ c: FusedCase) {
    let x = c.point
    let fused = c.objective(fusedForm: true)
    let reference = hessian(at: x, of: c.objective(fusedForm: false))
    let dense = hessian(at: x, of: fused)
    expectClose(dense, reference, tolerance: 1e-10, "dense Hessian")
    let v = randomTensor(x.shape, seed: 44)
    let expected = matmul(reference, v)
    for mode in HVPMode.allCases {
      expectClose(hvp(at: x, direction: v, mode: mode, of: fused), expected, tolerance: 1e-10, "\(mode)")
    }
    // Finite differences of the fused gradient along v.
    let fd = numericalJVP(at: x, direction: v) { gradient(at: $0, of: fused) }
    expectClose(hvp(at: x, direction: v, of: fused), fd, tolerance: fdTolerance, "FD of the gradient")
  }

  @Test("a third derivative (forward over an HVP) equals the unfused one", arguments: FusedCases.all)
  func thirdOrder(_ c: FusedCase) {
    let x = c.point
    let v = randomTensor(x.shape, seed: 45)
    let u = randomTensor(x.shape, seed: 46)
    func third(_ f: @escaping (Tensor) -> Tensor) -> Tensor {
      jvp(at: x, direction: u) { x in hvp(at: x, direction: v, mode: .reverseOverForward, of: f) }.tangent
    }
    expectClose(third(c.objective(fusedForm: true)), third(c.objective(fusedForm: false)), tolerance: 1e-9)
  }

  @Test("sum(_:) and its derivatives of every mode equal the unfused sum's", arguments: FusedCases.all)
  func summed(_ c: FusedCase) {
    let x = c.point
    let fused: (Tensor) -> Tensor = { x in c.fused.sum(c.inputs(x)) }
    let plain: (Tensor) -> Tensor = { x in c.plain(c.inputs(x)).sum() }
    expectClose(fused(x), plain(x), tolerance: 1e-13, "value")
    #expect(fused(x).shape == [])
    expectClose(gradient(at: x, of: fused), gradient(at: x, of: plain), tolerance: agreement, "gradient")
    expectClose(gradient(at: x, of: fused), numericalGradient(at: x, of: fused), tolerance: fdTolerance, "FD")
    let directions = randomTensor([3] + x.shape, seed: 55)
    expectClose(
      jvp(at: x, directions: directions, of: fused).tangents, jvp(at: x, directions: directions, of: plain).tangents,
      tolerance: agreement, "batched JVP")
    let reference = hessian(at: x, of: plain)
    expectClose(hessian(at: x, of: fused), reference, tolerance: 1e-10, "dense Hessian")
    let v = randomTensor(x.shape, seed: 56)
    for mode in HVPMode.allCases {
      expectClose(hvp(at: x, direction: v, mode: mode, of: fused), matmul(reference, v), tolerance: 1e-10, "\(mode)")
    }
    let u = randomTensor(x.shape, seed: 57)
    func third(_ f: @escaping (Tensor) -> Tensor) -> Tensor {
      jvp(at: x, direction: u) { x in hvp(at: x, direction: v, mode: .reverseOverReverse, of: f) }.tangent
    }
    expectClose(third(fused), third(plain), tolerance: 1e-9, "third order")
  }

  @Test("Rosenbrock's gradient equals its closed form")
  func rosenbrockClosedForm() {
    let d = 600  // more than two blocks
    let x = randomTensor([d], seed: 47)
    let terms = ElementwiseFunction { a, b in 100 * (b - a.squared()).squared() + (1 - a).squared() }
    let g = gradient(at: x) { x in terms(x.slicing(0..<(d - 1)), x.slicing(1..<d)).sum() }
    let s = x.scalars
    var expected = [Double](repeating: 0, count: d)
    for i in 0..<(d - 1) {
      let r = s[i + 1] - s[i] * s[i]
      expected[i] += -400 * s[i] * r - 2 * (1 - s[i])
      expected[i + 1] += 200 * r
    }
    expectClose(g, Tensor(expected), tolerance: 1e-12)
  }

  @Test("a large slice's adjoint becomes its parent's by widening the fused program's output in place")
  func widenedAdjoints() {
    let d = 5000  // outputs this large have room around them
    let x = randomTensor([d], seed: 50)
    let (c, v) = (randomTensor([d], seed: 51), randomTensor([d], seed: 52))
    let terms = ElementwiseFunction { a, b in 100 * (b - a.squared()).squared() + (1 - a).squared() }
    let fused: (Tensor) -> Tensor = { x in terms.sum(x.slicing(0..<(d - 1)), x.slicing(1..<d)) }
    let plain: (Tensor) -> Tensor = { x in
      let (a, b) = (x.slicing(0..<(d - 1)), x.slicing(1..<d))
      return (100 * (b - a.squared()).squared() + (1 - a).squared()).sum()
    }
    let g = gradient(at: x, of: fused)
    expectClose(g, gradient(at: x, of: plain), tolerance: 1e-11)
    // The first slice's adjoint was widened, not copied: the gradient is a view into the
    // adjoint program's output, with its margin.
    #expect(g.offset > 0 && g.storage.count == d - 1 + 2 * elementwiseOutputMargin)
    for mode in HVPMode.allCases {
      expectClose(
        hvp(at: x, direction: v, mode: mode, of: fused), hvp(at: x, direction: v, mode: mode, of: plain),
        tolerance: 1e-10, "\(mode)")
    }
    // In a forward-over-reverse HVP the adjoints are duals: both parts are widened.
    #expect(hvp(at: x, direction: v, mode: .forwardOverReverse, of: fused).offset > 0)
    // The widened adjoint takes further contributions in place (x also read whole, by an
    // older node, so swept after the slices).
    let both: (Tensor) -> Tensor = { x in (x * c).sum() + fused(x) }
    let gBoth = gradient(at: x, of: both)
    expectClose(gBoth, gradient(at: x, of: plain) + c, tolerance: 1e-11)
    #expect(gBoth.offset > 0, "the widened adjoint was copied when x's own contribution was added")
    // A window along an inner axis after leading axes of extent 1 is contiguous: widened too.
    let y = randomTensor([1, 2600, 2], seed: 54)
    let fusedY: (Tensor) -> Tensor = { y in
      terms.sum(y.slicing(0..<2599, alongAxis: 1), y.slicing(1..<2600, alongAxis: 1))
    }
    let plainY: (Tensor) -> Tensor = { y in
      let (a, b) = (y.slicing(0..<2599, alongAxis: 1), y.slicing(1..<2600, alongAxis: 1))
      return (100 * (b - a.squared()).squared() + (1 - a).squared()).sum()
    }
    let gY = gradient(at: y, of: fusedY)
    expectClose(gY, gradient(at: y, of: plainY), tolerance: 1e-11)
    #expect(gY.shape == [1, 2600, 2] && gY.offset > 0)
    let fromDual = hvp(at: x, direction: v, mode: .forwardOverReverse, of: both)
    expectClose(fromDual, hvp(at: x, direction: v, mode: .forwardOverReverse, of: plain), tolerance: 1e-10)
  }

  @Test("a view that alone holds its buffer is written in place; a shared one is copied first")
  func uniqueViewsWriteInPlace() {
    let f = ElementwiseFunction { a in a * 2 }
    var view = f(randomTensor([5000], seed: 53))  // an output with a margin: a view
    #expect(view.offset == elementwiseOutputMargin)
    let address = view.withUnsafeScalars { $0.baseAddress }
    view.withUnsafeMutableScalars { $0[0] = 42 }
    #expect(view.withUnsafeScalars { $0.baseAddress } == address && view.scalars[0] == 42)
    let shared = view
    var copy = view
    copy.withUnsafeMutableScalars { $0[0] = 7 }
    #expect(shared.scalars[0] == 42 && copy.scalars[0] == 7 && copy.offset == 0)
  }

  @Test(
    "layouts and block edges: sizes around the block, tiles, scalars, empty", arguments: [0, 1, 255, 256, 257, 1000])
  func layouts(_ n: Int) {
    let f = ElementwiseFunction(arity: 3) { v in exp(v[0]) * v[1] - v[2] * v[0] }
    let a = randomTensor([2, n], seed: 48)
    let row = randomTensor([n], seed: 49)
    let s = Tensor(0.75)
    let expected = exp(a) * row - s * a
    expectClose(f(a, row, s), expected, tolerance: 1e-14)
    expectClose(f(a, row.reshaped(to: [1, n]), s.reshaped(to: [1, 1])), expected, tolerance: 1e-14, "leading ones")
    let column = randomTensor([2, 1], seed: 50)
    expectClose(f(a, column, s), exp(a) * column - s * a, tolerance: 1e-14, "materialized column")
    expectClose(f.sum(a, row, s), expected.sum(), tolerance: 1e-13, "summed")
    // An output that is a scalar for every value: its sum is the value times the count.
    let scalarOnly = ElementwiseFunction { _, t in t * 2 }
    expectClose(scalarOnly.sum(a, s), Tensor(1.5 * Double(2 * n)), tolerance: 1e-14, "scalar output summed")
  }

  @Test("every kernel path this CPU runs gives the reference path's values to a few ulp")
  func kernelPaths() {
    let f = ElementwiseFunction { x, y in tanh(x) * sigmoid(y) + softplus(x - y) + exp(-x.squared()) + log1p(y * y) }
    let x = randomTensor([700], seed: 51, scale: 3)
    let y = randomTensor([700], seed: 52, scale: 3)
    let reference = evaluateElementwiseProgram(f.program, [x, y], shape: [700], path: .reference)[0]
    for path in KernelPath.allCases where path.isSupported {
      expectClose(
        evaluateElementwiseProgram(f.program, [x, y], shape: [700], path: path)[0], reference, tolerance: 1e-14)
    }
  }

  @Test(
    "the executor equals a value-by-value interpreter on derived programs of every order", arguments: FusedCases.all)
  func executorAgainstInterpreter(_ c: FusedCase) {
    let first = c.fused.program
    let n = first.inputCount
    let programs = [
      first, first.adjointProgram(wrt: .init(repeating: true, count: n)),
      first.tangentProgram(mask: .init(repeating: true, count: n)),
      first.tangentProgram(mask: .init(repeating: true, count: n)).adjointProgram(
        wrt: .init(repeating: true, count: 2 * n + 1)),
      first.valueAndTangentProgram(mask: .init(repeating: true, count: n)),
    ]
    for program in programs {
      let inputs = (0..<program.inputCount).map { positiveTensor([300], seed: UInt64(60 + $0), minimum: 0.3) }
      let expected = interpret(program, inputs)
      for path in KernelPath.allCases where path.isSupported {
        let actual = evaluateElementwiseProgram(program, inputs, shape: [300], path: path)
        let sums = evaluateElementwiseProgram(program, inputs, shape: [300], summing: true, path: path)
        for ((a, sum), e) in zip(zip(actual, sums), expected) {
          expectClose(a, e, tolerance: 1e-13, "\(path)\n\(program.listing)")
          expectClose(sum, e.sum(), tolerance: 1e-13, "\(path), summed")
        }
      }
    }
  }

  /// One pattern per two-operation step: the step, the fused body and the unfused form.
  typealias Pattern = (op: Int32, body: (E, E, E) -> E, plain: (Tensor, Tensor, Tensor) -> Tensor)
  static func combinedPatterns() -> [Pattern] {
    var patterns: [Pattern] = []
    patterns.append((Int32(CK_OP_MUL_MUL_S), { a, b, _ in (a * b) * 3 }, { a, b, _ in (a * b) * 3 }))
    patterns.append((Int32(CK_OP_MUL_ADD), { a, b, c in a * b + c }, { a, b, c in a * b + c }))
    patterns.append((Int32(CK_OP_MUL_SUB), { a, b, c in a * b - c }, { a, b, c in a * b - c }))
    patterns.append((Int32(CK_OP_SUB_MUL), { a, b, c in c - a * b }, { a, b, c in c - a * b }))
    patterns.append((Int32(CK_OP_MULS_ADD), { a, _, c in a * 2 + c }, { a, _, c in a * 2 + c }))
    patterns.append((Int32(CK_OP_MULS_SUB), { a, _, c in a * 2 - c }, { a, _, c in a * 2 - c }))
    patterns.append((Int32(CK_OP_MULS_ADD), { a, _, c in c - a * 2 }, { a, _, c in c - a * 2 }))
    // A square is the product of its operand with itself.
    patterns.append((Int32(CK_OP_MUL_ADD), { a, _, c in a.squared() + c }, { a, _, c in a.squared() + c }))
    patterns.append((Int32(CK_OP_SUB_MUL), { a, _, c in c - a.squared() }, { a, _, c in c - a.squared() }))
    patterns.append((Int32(CK_OP_MUL_MUL_S), { a, _, _ in a.squared() * 3 }, { a, _, _ in a.squared() * 3 }))
    return patterns
  }

  @Test("two-operation steps: a product read once is computed inside the next step, with the same values")
  func combinedSteps() {
    let (a, b, c) = (randomTensor([300], seed: 80), randomTensor([300], seed: 81), randomTensor([300], seed: 82))
    for (op, body, plain) in Self.combinedPatterns() {
      let f = ElementwiseFunction(body)
      let plan = ElementwisePlan(f.program, periods: [0, 0, 0], reducing: false)
      #expect(plan.steps.contains { $0.op == op }, "\(f.program.listing)")
      #expect(plan.steps.count == 1, "one step: \(plan.steps.map(\.op))")
      let expected = plain(a, b, c)
      for path in KernelPath.allCases where path.isSupported {
        expectExactly(
          evaluateElementwiseProgram(f.program, [a, b, c], shape: [300], path: path)[0], shape: expected.shape,
          scalars: expected.scalars, "\(path)")
      }
    }
  }

  @Test("programs are simplified: shared subexpressions, folded constants, identities removed")
  func simplification() {
    let f = ElementwiseFunction { x, y in (x * y + (-0.0)) * 1 + (y * x) * (2 - 1) + -(-x) / 1 }
    // x·y is shared (operands ordered), the constants fold, and what remains is
    // inputs 0 and 1, x·y, x·y + x·y, and + x.
    #expect(f.program.instructions.count == 5, "\(f.program.listing)")
    let identity = ElementwiseFunction { x in (x + (-0.0)) - 0.0 }
    #expect(identity.program.instructions == [.input(0)])
    // x + 0 is not x at x = −0: kept.
    #expect(ElementwiseFunction { x in x + 0 }.program.instructions.count == 3)
  }

  @Test("signed zeros and infinities come out as in the unfused operations")
  func signedZeros() {
    let z = Tensor([-0.0, 0.0, 1.0])
    let cases: [(ElementwiseFunction, (Tensor, Tensor) -> Tensor)] = [
      (ElementwiseFunction { x, _ in 1 / (x + 0) }, { x, _ in 1 / (x + 0) }),
      (ElementwiseFunction { x, _ in 1 / (0 - x) }, { x, _ in 1 / (0 - x) }),
      (ElementwiseFunction { p, q in 1 / -(p - q) }, { p, q in 1 / -(p - q) }),
      (ElementwiseFunction { p, b in 1 / (-p - b) }, { p, b in 1 / (-p - b) }),
      (ElementwiseFunction { x, _ in 1 / (x - (-0.0)) }, { x, _ in 1 / (x - (-0.0)) }),
    ]
    for (index, (fused, plain)) in cases.enumerated() {
      let (p, q) = index == 3 ? (Tensor([1.0, -2.0, 0.0]), Tensor([-1.0, 2.0, -0.0])) : (z, z)
      let expected = plain(p, q).scalars
      let actual = fused(p, q).scalars
      #expect(
        zip(actual, expected).allSatisfy { $0.bitPattern == $1.bitPattern }, "case \(index): \(actual) vs \(expected)")
    }
  }

  @Test("a scalar operand of -0 keeps its sign in every path's vector loops")
  func negativeZeroScalar() {
    let f = ElementwiseFunction { x, s in x + s }
    let x = Tensor([Double](repeating: -0.0, count: 100))
    for path in KernelPath.allCases where path.isSupported {
      let y = evaluateElementwiseProgram(f.program, [x, Tensor(-0.0)], shape: [100], path: path)[0]
      #expect(y.scalars.allSatisfy { $0.bitPattern == (-0.0).bitPattern }, "\(path)")
    }
  }

  @Test("a short tile is broadcast first; a long one is read in place")
  func shortTiles() {
    let f = ElementwiseFunction { a, b in a * b + b }
    let a = randomTensor([500, 2], seed: 96)
    let bias = Tensor([0.5, -1.5])
    expectClose(f(a, bias), a * bias + bias, tolerance: 1e-15)
    #expect(!elementwiseReadsDirectly([2], as: [500, 2]))
    #expect(elementwiseReadsDirectly([128], as: [256, 128]))
    let g = gradient(at: bias) { b in f.sum(a, b) }
    expectClose(g, (a + 1).sum(alongAxes: 0).reshaped(to: [2]), tolerance: 1e-13)
  }

  @Test("derived rules read the value rather than recomputing it, and are cached")
  func derivedRules() {
    let f = ElementwiseFunction { x in tanh(x) }
    let adjoint = f.program.adjointProgram(wrt: [true])
    #expect(adjoint.inputCount == 3)  // x, y, ȳ
    // ȳ (1 − y²) from the value y (input 1) and the cotangent (input 2): no tanh.
    #expect(
      !adjoint.instructions.contains { if case .unary(.tanh, _) = $0 { true } else { false } }, "\(adjoint.listing)")
    #expect(adjoint === f.program.adjointProgram(wrt: [true]))
    let tangent = f.program.tangentProgram(mask: [true])
    #expect(tangent === f.program.tangentProgram(mask: [true]))
    // A second-order rule is a program too.
    #expect(tangent.adjointProgram(wrt: [true, true, true]).outputs.count == 3)
  }

  @Test("a node with more than two traced operands routes every adjoint (reverse over reverse)")
  func manyParents() {
    let f = ElementwiseFunction(arity: 5) { v in v[0] * v[1] * v[2] + v[3] / v[4] }
    let x = positiveTensor([5, 3], seed: 53)
    func parts(_ x: Tensor) -> [Tensor] { (0..<5).map { x.slicing($0..<($0 + 1)).reshaped(to: [3]) } }
    let fused: (Tensor) -> Tensor = { x in f(parts(x)).sum() }
    let plain: (Tensor) -> Tensor = { x in
      let p = parts(x)
      return (p[0] * p[1] * p[2] + p[3] / p[4]).sum()
    }
    expectClose(gradient(at: x, of: fused), gradient(at: x, of: plain), tolerance: agreement)
    let v = randomTensor([5, 3], seed: 54)
    expectClose(
      hvp(at: x, direction: v, mode: .reverseOverReverse, of: fused),
      hvp(at: x, direction: v, mode: .reverseOverReverse, of: plain), tolerance: 1e-10)
    // The same tracer passed as several operands accumulates its adjoints.
    let g = gradient(at: Tensor([1.5, 2])) { x in f(x, x, x, x, x).sum() }
    expectClose(g, Tensor([3 * 1.5 * 1.5, 3 * 2 * 2]), tolerance: agreement)
  }

  @Test("one function differentiated on many threads at once: its caches are shared safely, every result exact")
  func concurrentUse() async {
    // A fresh function: its derived programs and plans are built while the threads race.
    let f = ElementwiseFunction { a, b in tanh(a) * b + softplus(a - b) }
    let x = randomTensor([2, 300], seed: 90)
    let v = randomTensor([2, 300], seed: 91)
    let objective: @Sendable (Tensor) -> Tensor = { x in f.sum(x.slicing(0..<1), x.slicing(1..<2)) }
    let serial = HVPMode.allCases.map { hvp(at: x, direction: v, mode: $0, of: objective).scalars }
    let results = await withTaskGroup(of: (Int, [Double]).self) { group in
      for task in 0..<12 {
        group.addTask {
          let mode = HVPMode.allCases[task % 3]
          return (task % 3, hvp(at: x, direction: v, mode: mode, of: objective).scalars)
        }
      }
      var collected: [(Int, [Double])] = []
      for await result in group { collected.append(result) }
      return collected
    }
    #expect(results.count == 12)
    for (mode, scalars) in results { #expect(scalars == serial[mode]) }
  }

  @Test("an expression carried out of one function's body into another's stops with a message")
  func foreignExpression() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var leaked: ElementwiseExpression?
      _ = ElementwiseFunction { x in
        leaked = x
        return x
      }
      _ = ElementwiseFunction { y in y + leaked! }
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(message.contains("an expression of another function's body"))
  }

  @Test("a several-output program on a tape: one joint node, swept again and again by one pullback")
  func jointNodeSweptTwice() {
    let f = ElementwiseFunction { a, b in 100 * (b - a.squared()).squared() + (1 - a).squared() }
    let x = randomTensor([40], seed: 92)
    let objective: (Tensor) -> Tensor = { x in f.sum(x.slicing(0..<39), x.slicing(1..<40)) }
    // The gradient's adjoint program has two outputs (one per slice), recorded on the
    // pullback's tape; its pullback is the Hessian, applied to two directions in turn.
    let hessianTimes = pullback(at: x) { x in gradient(at: x, of: objective) }
    let reference = hessian(at: x) { x in
      let (a, b) = (x.slicing(0..<39), x.slicing(1..<40))
      return (100 * (b - a.squared()).squared() + (1 - a).squared()).sum()
    }
    for seed in [93, 94, 95] as [UInt64] {
      let v = randomTensor([40], seed: seed)
      expectClose(hessianTimes(v), matmul(reference, v), tolerance: 1e-10, "direction \(seed)")
    }
  }

  @Test("calling with the wrong number of tensors stops with a message naming both counts")
  func arityMismatch() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let f = ElementwiseFunction { x, y in x * y }
      _ = f(Tensor([1, 2]))
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(message.contains("called with 1 tensors, but it takes 2"))
  }

  @Test("inputs that do not broadcast stop with a message naming the shapes")
  func shapeMismatch() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let f = ElementwiseFunction { x, y in x * y }
      _ = f(Tensor.ones([2, 3]), Tensor.ones([4]))
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(message.contains("ElementwiseFunction") && message.contains("[2, 3]") && message.contains("[4]"))
  }
}

/// The program evaluated one value at a time with the scalar functions.
private func interpret(_ program: ElementwiseProgram, _ inputs: [Tensor]) -> [Tensor] {
  let count = inputs.map(\.scalarCount).max() ?? 0
  var outputs = program.outputs.map { _ in [Double](repeating: 0, count: count) }
  let values = inputs.map(\.scalars)
  for i in 0..<count {
    var registers = [Double](repeating: 0, count: program.instructions.count)
    for (k, instruction) in program.instructions.enumerated() {
      switch instruction {
      case .input(let j): registers[k] = values[j].count == 1 ? values[j][0] : values[j][i]
      case .constant(let bits): registers[k] = Double(bitPattern: bits)
      case .unary(let op, let a): registers[k] = op(registers[a])
      case .binary(let op, let a, let b): registers[k] = op(registers[a], registers[b])
      case .power(let a, let bits): registers[k] = Foundation.pow(registers[a], Double(bitPattern: bits))
      }
    }
    for (j, k) in program.outputs.enumerated() { outputs[j][i] = registers[k] }
  }
  return outputs.map { Tensor(shape: [count], scalars: $0) }
}
