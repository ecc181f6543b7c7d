import Autodiff
import TestSupport
import Testing

// Batched forward mode, `jvp(at:directions:of:)`: every primitive's batched rule against
// the single-direction JVP row by row (the cross-mode check) and against central finite
// differences; second order through batches (forward-over-reverse against the dense
// Hessian, reverse over a batch, a batch inside a batch); the forward-mode Jacobian built
// on it; and the errors on a malformed batch.

/// Batched and single JVPs run the same arithmetic in another order.
private let crossModeTolerance = 1e-12
/// AD against central finite differences.
private let fdTolerance = 1e-6

/// A function of one flat vector that reaches a group of primitives, with its point.
struct BatchedCase: Sendable, CustomTestStringConvertible {
  let name: String
  let point: @Sendable () -> Tensor
  let f: @Sendable (Tensor) -> Tensor
  var testDescription: String { name }
}

/// Splits a flat vector into consecutive pieces of the given shapes.
private func pieces(_ x: Tensor, _ shapes: [[Int]]) -> [Tensor] {
  var start = 0
  return shapes.map { shape in
    let count = shape.reduce(1, *)
    defer { start += count }
    return x.slicing(start..<(start + count)).reshaped(to: shape)
  }
}

/// The tensors flattened and joined into one vector.
private func joined(_ parts: [Tensor]) -> Tensor {
  Tensor(concatenating: parts.map { $0.reshaped(to: [-1]) }, alongAxis: 0)
}

enum BatchedCases {
  static let elementwiseUnary = BatchedCase(
    name: "elementwise unary", point: { positiveTensor([6], seed: 11) },
    f: { x in
      joined([
        exp(x), log(x), log1p(x), sqrt(x), pow(x, 3), abs(x - 1.2), tanh(x), sigmoid(x), softplus(x),
        relu(x - 1), x.squared(),
      ])
    })

  static let broadcastingBinary = BatchedCase(
    name: "broadcasting + - * / max min, scalar operands", point: { awayFromZeroTensor([16], seed: 12) },
    f: { x in
      let p = pieces(x, [[3, 4], [4]])
      let (a, b) = (p[0], p[1])
      let c = randomTensor([3, 1], seed: 13)
      return joined([
        a + b, a - b, b - a, a * b, a / b, b / a, max(a, b), min(b.reshaped(to: [1, 4]), a), c * a, a / c,
        2 * a - 1, a / 3, 1 - a, -a, 0.5 * b + 0.25,
      ])
    })

  static let reductions = BatchedCase(
    name: "sums, broadcasts, means, logSumExp, softmax", point: { randomTensor([12], seed: 14) },
    f: { x in
      let a = x.reshaped(to: [3, 4])
      return joined([
        a.sum(alongAxes: 0), a.sum(squeezingAxes: 1), a.sum(), a.mean(), a.slicing(0..<1).broadcasted(to: [2, 3, 4]),
        x.broadcasted(to: [2, 12]), a.logSumExp(squeezingAxes: 1), a.softmax(alongAxis: 1), a.norm(),
      ])
    })

  static let shapes = BatchedCase(
    name: "reshape, transpose, gather, concatenate, slice", point: { randomTensor([24], seed: 15) },
    f: { x in
      let a = x.reshaped(to: [2, 3, 4])
      let m = x.reshaped(to: [6, 4])
      return joined([
        a.transposed(permutation: [2, 0, 1]) * 1.5, m.transposed(), m.gathering(rows: [5, 0, 5, 2]),
        m.concatenated(with: m.squared(), alongAxis: 1), a.slicing(1..<3, alongAxis: 1), a.slicing(0..<1),
      ])
    })

  static let products = BatchedCase(
    name: "matmul in all four transpositions, matrix-vector, dot", point: { randomTensor([12 + 20 + 4 + 3], seed: 16) },
    f: { x in
      let p = pieces(x, [[3, 4], [4, 5], [4], [3]])
      let (a, b, v, w) = (p[0], p[1], p[2], p[3])
      let c = randomTensor([5, 4], seed: 17)
      return joined([
        matmul(a, b), matmul(a, transposed: true, a), matmul(a, transposed: false, a, transposed: true),
        matmul(b, transposed: true, a, transposed: true), matmul(c, b) * 0.5,
        matmul(a, transposed: false, c, transposed: true), matmul(c, transposed: true, b, transposed: true),
        matmul(b, transposed: true, c, transposed: true),
        matmul(a, v), matmul(a, transposed: true, w), matmul(w, a), matmul(c, v), matmul(v, v), matmul(v, b),
        dot(v, c.slicing(0..<1).reshaped(to: [4])),
      ])
    })

  static let customAndCheckpointed = BatchedCase(
    name: "differentiableFunction and checkpointed (row by row)", point: { randomTensor([5], seed: 18) },
    f: { x in
      let cube = differentiableFunction(
        { $0 * $0 * $0 }, jvp: { x, _, t in 3 * x * x * t }, vjp: { x, _, c in 3 * x * x * c })
      let block = checkpointed { (x: Tensor) in tanh(x) * x }
      return joined([cube(x), block(x)])
    })

  static let all = [elementwiseUnary, broadcastingBinary, reductions, shapes, products, customAndCheckpointed]
}

@Suite("Batched JVP")
struct BatchedJVPTests {
  @Test("each row of a batch is the single-direction JVP and the finite difference", arguments: BatchedCases.all)
  func rowsMatchSingleJVPs(testCase: BatchedCase) {
    let x = testCase.point()
    let n = x.scalarCount
    let directions = randomTensor([4, n], seed: 21)
    let (value, tangents) = jvp(at: x, directions: directions, of: testCase.f)
    expectClose(value, testCase.f(x), tolerance: 0, "value")
    expectShape(tangents, [4] + value.shape, "tangents")
    for i in 0..<4 {
      let direction = Tensor(shape: [n], scalars: Array(directions.scalars[(i * n)..<((i + 1) * n)]))
      let single = jvp(at: x, direction: direction, of: testCase.f).tangent
      let row = Tensor(
        shape: value.shape, scalars: Array(tangents.scalars[(i * value.scalarCount)...].prefix(value.scalarCount)))
      expectClose(row, single, tolerance: crossModeTolerance, "row \(i) vs jvp(direction:)")
      expectClose(
        row, numericalJVP(at: x, direction: direction, of: testCase.f), tolerance: fdTolerance, "row \(i) vs FD")
    }
  }

  @Test("forward-over-reverse on a batch: the rows of V H", arguments: Objectives.all)
  func batchedHessianRows(objective: Objective) {
    let x = objective.point()
    let n = objective.dimension
    let directions = randomTensor([3, n], seed: 22)
    let (_, rows) = jvp(at: x, directions: directions) { x in gradient(at: x, of: objective.f) }
    let h = hessian(at: x, of: objective.f)
    expectClose(rows, matmul(directions, h), tolerance: 1e-10, "V H by a batch vs the dense Hessian")
    let single = hvp(at: x, direction: objective.direction(), mode: .forwardOverReverse, of: objective.f)
    let (_, one) = jvp(at: x, directions: objective.direction().reshaped(to: [1, n])) { x in
      gradient(at: x, of: objective.f)
    }
    expectClose(one.reshaped(to: [n]), single, tolerance: 1e-10, "a batch of one vs hvp")
  }

  @Test("reverse over a batch: the gradient of a function of the batch's tangents")
  func reverseOverBatch() {
    let objective = TwoLayerMLP.objective
    let x = objective.point()
    let n = objective.dimension
    let directions = randomTensor([3, n], seed: 23)
    let batched = gradient(at: x) { x in
      jvp(at: x, directions: directions, of: objective.f).tangents.squared().sum()
    }
    var expected = Tensor.zeros([n])
    for i in 0..<3 {
      let v = directions.slicing(i..<(i + 1)).reshaped(to: [n])
      expected = expected + gradient(at: x) { x in jvp(at: x, direction: v, of: objective.f).tangent.squared().sum() }
    }
    expectClose(batched, expected, tolerance: 1e-10)
  }

  @Test("a batch inside a batch: U H Vᵀ", arguments: [Rosenbrock.objective, TwoLayerMLP.objective])
  func batchInsideBatch(objective: Objective) {
    let x = objective.point()
    let n = objective.dimension
    let u = randomTensor([2, n], seed: 24)
    let v = randomTensor([3, n], seed: 25)
    let (_, second) = jvp(at: x, directions: u) { x in
      jvp(at: x, directions: v) { x in objective.f(x).reshaped(to: []) }.tangents
    }
    expectShape(second, [2, 3])
    let h = hessian(at: x, of: objective.f)
    expectClose(second, matmul(matmul(u, h), transposed: false, v, transposed: true), tolerance: 1e-10)
  }

  @Test("structures: a dictionary point with a batch per tensor, one B")
  func structures() {
    let point: [String: Tensor] = ["w": randomTensor([3, 2], seed: 26), "b": randomTensor([2], seed: 27)]
    let directions: [String: Tensor] = ["w": randomTensor([5, 3, 2], seed: 28), "b": randomTensor([5, 2], seed: 29)]
    let f = { (p: [String: Tensor]) -> [Tensor] in
      [tanh(matmul(Tensor.ones([4, 3]), p["w"]!) + p["b"]!), p["b"]!.squared().sum()]
    }
    let (value, tangents) = jvp(at: point, directions: directions, of: f)
    #expect(tangents.map(\.shape) == [[5, 4, 2], [5]])
    for i in 0..<5 {
      let direction = directions.mapValues { $0.slicing(i..<(i + 1)).reshaped(to: Array($0.shape.dropFirst())) }
      let single = jvp(at: point, direction: direction, of: f).tangent
      for (batch, one) in zip(tangents, single) {
        expectClose(batch.slicing(i..<(i + 1)).reshaped(to: one.shape), one, tolerance: crossModeTolerance)
      }
    }
    expectClose(value[0], f(point)[0], tolerance: 0)
    let (_, none) = jvp(at: [Tensor](), directions: [Tensor]()) { (_: [Tensor]) in Tensor([1, 2]) }
    #expect(none.shape == [0, 2], "an empty point has a batch of no rows")
  }

  @Test("an output that does not depend on x has a zero batch")
  func constantOutput() {
    let (_, tangents) = jvp(at: Tensor([1, 2]), directions: Tensor.ones([3, 2])) { _ in Tensor([5, 6, 7]) }
    expectClose(tangents, Tensor.zeros([3, 3]), tolerance: 0)
  }

  @Test("forward-mode jacobian in blocks of columns matches finite differences")
  func forwardJacobianBlocks() {
    // 130 inputs, 260 outputs: forward mode, two blocks of columns.
    let x = randomTensor([130], seed: 30)
    let f = { (x: Tensor) -> Tensor in tanh(x).concatenated(with: x.squared() * x.slicing(0..<1)) }
    let j = jacobian(at: x, of: f)
    expectShape(j, [260, 130])
    expectClose(j, numericalJacobian(at: x, of: f), tolerance: fdTolerance)
    let p: [Tensor] = [randomTensor([2], seed: 31), randomTensor([2, 2], seed: 32)]
    let g = { (p: [Tensor]) -> Tensor in joined([p[0] * p[1], exp(p[0]), p[1].sum(alongAxes: 0)]) }
    let structured = jacobian(at: p, of: g)
    let flat = jacobian(at: joined(p)) { x in g(pieces(x, [[2], [2, 2]])) }
    expectClose(structured, flat, tolerance: crossModeTolerance, "structure vs its flat vector")
  }

  @Test("a batch whose shape is not [B] + the point's shape stops with both shapes")
  func wrongBatchShape() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = jvp(at: Tensor.ones([3]), directions: Tensor.ones([2, 4])) { $0 * 2 }
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(message.contains("[2, 4]") && message.contains("[B] + [3]"), "stderr: \(message)")
    let counts = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = jvp(at: [Tensor.ones([3]), Tensor.ones([2])], directions: [Tensor.ones([4, 3]), Tensor.ones([5, 2])]) {
        $0[0].sum() + $0[1].sum()
      }
    }
    let countMessage = String(decoding: counts?.standardErrorContent ?? [], as: UTF8.self)
    #expect(countMessage.contains("4 and 5 rows"), "stderr: \(countMessage)")
  }
}
