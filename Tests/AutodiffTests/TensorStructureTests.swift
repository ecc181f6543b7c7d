import Autodiff
import Foundation
import TestSupport
import Testing

// Derivatives with respect to structures of tensors: a user's struct, [String: Tensor],
// [Tensor] and nestings of them, against the same function on one flat vector (the way
// users had to write it before), against central finite differences and across the
// three HVP modes.

/// A two-layer tanh network as a user writes it: one line per tensor property.
struct TwoLayerNetwork: TensorStructure, Equatable {
  var w1, b1, w2, b2: Tensor
  mutating func visitTensors(_ visit: (inout Tensor) -> Void) {
    visit(&w1)
    visit(&b1)
    visit(&w2)
    visit(&b2)
  }
  static func == (a: Self, b: Self) -> Bool { a.tensors.map(\.scalars) == b.tensors.map(\.scalars) }
}

/// A struct holding another structure and a non-tensor property.
struct Model: TensorStructure {
  var network: TwoLayerNetwork
  var temperature: Tensor
  var name = "model"
  mutating func visitTensors(_ visit: (inout Tensor) -> Void) {
    network.visitTensors(visit)
    visit(&temperature)
  }
}

/// Softmax cross-entropy of a 4-5-3 tanh network on 6 samples.
enum NetworkLoss {
  static let (inputs, hidden, classes, batch) = (4, 5, 3, 6)
  static let data = Tensor(randomNormal: [batch, inputs], seed: 11)
  static let oneHot: Tensor = {
    var values = [Double](repeating: 0, count: batch * classes)
    for i in 0..<batch { values[i * classes + (i * 7) % classes] = 1 }
    return Tensor(shape: [batch, classes], scalars: values)
  }()
  static let sizes = [inputs * hidden, hidden, hidden * classes, classes]
  static let count = sizes.reduce(0, +)

  static func loss(_ w1: Tensor, _ b1: Tensor, _ w2: Tensor, _ b2: Tensor) -> Tensor {
    let logits = matmul(tanh(matmul(data, w1) + b1), w2) + b2
    return (logits.logSumExp(squeezingAxes: 1) - (logits * oneHot).sum(squeezingAxes: 1)).mean()
  }

  /// The same loss on one flat vector, sliced by hand.
  static func flatLoss(_ p: Tensor) -> Tensor {
    var offset = 0
    func take(_ size: Int, _ shape: [Int]) -> Tensor {
      defer { offset += size }
      return p.slicing(offset..<(offset + size)).reshaped(to: shape)
    }
    let w1 = take(sizes[0], [inputs, hidden])
    let b1 = take(sizes[1], [hidden])
    let w2 = take(sizes[2], [hidden, classes])
    let b2 = take(sizes[3], [classes])
    return loss(w1, b1, w2, b2)
  }

  static func network(seed: UInt64) -> TwoLayerNetwork {
    TwoLayerNetwork(
      w1: Tensor(randomNormal: [inputs, hidden], seed: seed) * 0.5,
      b1: Tensor(randomNormal: [hidden], seed: seed &+ 1) * 0.5,
      w2: Tensor(randomNormal: [hidden, classes], seed: seed &+ 2) * 0.5,
      b2: Tensor(randomNormal: [classes], seed: seed &+ 3) * 0.5)
  }

  static func dictionary(_ n: TwoLayerNetwork) -> [String: Tensor] {
    ["w1": n.w1, "b1": n.b1, "w2": n.w2, "b2": n.b2]
  }
}

/// The flat vector of a network's tensors in the struct's order.
private func flat(_ n: TwoLayerNetwork) -> Tensor { n.flattened() }

/// Relative agreement of two structures, tensor by tensor.
private func expectClose<S: TensorStructure>(
  _ a: S, _ b: S, tolerance: Double, _ comment: String, sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(a.hasSameLayout(as: b), "\(comment): layouts \(a.layoutDescription) and \(b.layoutDescription)")
  for (x, y) in zip(a.tensors, b.tensors) {
    expectClose(x, y, tolerance: tolerance, comment, sourceLocation: sourceLocation)
  }
}

@Suite("Structures of tensors")
struct TensorStructureTests {
  let point = NetworkLoss.network(seed: 1)
  let direction = NetworkLoss.network(seed: 21)

  @Test("tensors, replacingTensors, flattened and unflattened round-trip in the declared order")
  func roundTrip() {
    #expect(point.tensors.map(\.shape) == [[4, 5], [5], [5, 3], [3]])
    #expect(point.scalarCount == NetworkLoss.count)
    #expect(point.unflattened(point.flattened()) == point)
    let dict = NetworkLoss.dictionary(point)
    #expect(dict.tensors.map(\.shape) == [[5], [3], [4, 5], [5, 3]], "dictionary: ascending keys")
    let model = Model(network: point, temperature: Tensor(2))
    let rebuilt = model.replacingTensors(with: model.tensors.map { $0 * 2 })
    #expect(rebuilt.temperature.scalar == 4 && rebuilt.name == "model")
  }

  @Test("arithmetic, dot and norm read like vector math and equal the flat versions")
  func arithmetic() {
    let p = point
    let g = direction
    let step = p - 0.1 * g
    expectClose(step.flattened(), flat(p) - 0.1 * flat(g), tolerance: 0, "p - 0.1 g")
    expectClose(dot(g, g).scalar, dot(flat(g), flat(g)).scalar, tolerance: 1e-15, "dot")
    expectClose(g.norm().scalar, flat(g).norm().scalar, tolerance: 1e-15, "norm")
    expectClose((p.adding(g) * g / 2).flattened(), (flat(p) + flat(g)) * flat(g) / 2, tolerance: 0, "sum, product")
    expectClose((-p).flattened(), -flat(p), tolerance: 0, "negation")
    let dp = NetworkLoss.dictionary(p)
    let dg = NetworkLoss.dictionary(g)
    expectClose((dp - 0.1 * dg)["w2"]!, p.w2 - 0.1 * g.w2, tolerance: 0, "dictionary arithmetic")
    let ap = p.tensors
    let ag = g.tensors
    expectClose((ap - 0.5 * ag)[3], p.b2 - 0.5 * g.b2, tolerance: 0, "array arithmetic")
    #expect((ap + ag).count == 8, "on arrays + keeps Swift's meaning: concatenation")
    expectClose(ap.adding(ag)[0], p.w1 + g.w1, tolerance: 0, "array adding(_:)")
  }

  @Test("the acceptance calls compile and agree with the flat vector to 1e-13")
  func acceptanceCalls() {
    let w = point.w1
    let b = point.b1
    let d: [String: Tensor] = ["w": direction.w1, "b": direction.b1]
    func loss(_ w: Tensor, _ b: Tensor) -> Tensor { NetworkLoss.loss(w, b, point.w2, point.b2) }
    let p: [String: Tensor] = ["w": w, "b": b]
    let g: [String: Tensor] = gradient(at: p) { p in loss(p["w"]!, p["b"]!) }
    let (value, grads) = valueWithGradient(at: p) { p in loss(p["w"]!, p["b"]!) }
    let hv: [String: Tensor] = hvp(at: p, direction: d, mode: .forwardOverReverse) { p in loss(p["w"]!, p["b"]!) }
    let (v2, derivative) = jvp(at: p, direction: d) { p in loss(p["w"]!, p["b"]!) }  // derivative: Tensor
    let gs: [Tensor] = gradient(at: [w, b]) { p in loss(p[0], p[1]) }

    // The flat reference over (w, b) in the dictionary's order: b before w.
    let flatPoint = p.flattened()
    let flatDirection = d.flattened()
    let flatF = { (v: Tensor) in loss(p.unflattened(v)["w"]!, p.unflattened(v)["b"]!) }
    let reference = gradient(at: flatPoint, of: flatF)
    expectClose(g.flattened(), reference, tolerance: 1e-13, "gradient")
    expectClose(grads.flattened(), reference, tolerance: 1e-13, "valueWithGradient")
    expectClose(value.scalar, loss(w, b).scalar, tolerance: 1e-15, "value")
    expectClose(v2.scalar, loss(w, b).scalar, tolerance: 1e-15, "jvp value")
    expectClose(derivative.scalar, dot(reference, flatDirection).scalar, tolerance: 1e-13, "jvp")
    expectClose(hv.flattened(), hvp(at: flatPoint, direction: flatDirection, of: flatF), tolerance: 1e-13, "hvp")
    expectClose(gs[0], g["w"]!, tolerance: 1e-13, "array gradient w")
    expectClose(gs[1], g["b"]!, tolerance: 1e-13, "array gradient b")
  }

  @Test(
    "a struct, a dictionary and an array give the flat vector's gradient and HVPs to 1e-13",
    arguments: HVPMode.allCases)
  func agreesWithFlatVector(mode: HVPMode) {
    let flatPoint = flat(point)
    let flatDirection = flat(direction)
    let flatGradient = gradient(at: flatPoint, of: NetworkLoss.flatLoss)
    let flatHVP = hvp(at: flatPoint, direction: flatDirection, mode: mode, of: NetworkLoss.flatLoss)

    let structGradient = gradient(at: point) { n in NetworkLoss.loss(n.w1, n.b1, n.w2, n.b2) }
    let structHVP = hvp(at: point, direction: direction, mode: mode) { n in NetworkLoss.loss(n.w1, n.b1, n.w2, n.b2) }
    expectClose(structGradient.flattened(), flatGradient, tolerance: 1e-13, "struct gradient")
    expectClose(structHVP.flattened(), flatHVP, tolerance: 1e-13, "struct hvp \(mode)")

    let dictLoss = { (p: [String: Tensor]) in NetworkLoss.loss(p["w1"]!, p["b1"]!, p["w2"]!, p["b2"]!) }
    let dictGradient = gradient(at: NetworkLoss.dictionary(point), of: dictLoss)
    let dictHVP = hvp(
      at: NetworkLoss.dictionary(point), direction: NetworkLoss.dictionary(direction), mode: mode, of: dictLoss)
    for (key, tensor) in NetworkLoss.dictionary(structGradient) {
      expectClose(dictGradient[key]!, tensor, tolerance: 1e-13, "dictionary gradient \(key)")
    }
    for (key, tensor) in NetworkLoss.dictionary(structHVP) {
      expectClose(dictHVP[key]!, tensor, tolerance: 1e-13, "dictionary hvp \(key)")
    }

    let arrayLoss = { (p: [Tensor]) in NetworkLoss.loss(p[0], p[1], p[2], p[3]) }
    let arrayGradient = gradient(at: point.tensors, of: arrayLoss)
    let arrayHVP = hvp(at: point.tensors, direction: direction.tensors, mode: mode, of: arrayLoss)
    expectClose(arrayGradient.flattened(), flatGradient, tolerance: 1e-13, "array gradient")
    expectClose(arrayHVP.flattened(), flatHVP, tolerance: 1e-13, "array hvp \(mode)")
  }

  @Test("the struct's gradient and HVP agree with central finite differences")
  func finiteDifferences() {
    let f = { (n: TwoLayerNetwork) in NetworkLoss.loss(n.w1, n.b1, n.w2, n.b2) }
    let numeric = numericalGradient(at: flat(point)) { v in f(point.unflattened(v)) }
    expectClose(gradient(at: point, of: f).flattened(), numeric, tolerance: 1e-7, "gradient vs FD")
    let h = 1e-5
    let numericHVP =
      (gradient(at: point + h * direction, of: f) - gradient(at: point - h * direction, of: f)) / (2 * h)
    expectClose(
      hvp(at: point, direction: direction, of: f).flattened(), numericHVP.flattened(), tolerance: 1e-6, "hvp vs FD")
  }

  @Test("hessian of a structure is the flat Hessian, and jacobian flattens structured values")
  func hessianAndJacobian() {
    let f = { (n: TwoLayerNetwork) in NetworkLoss.loss(n.w1, n.b1, n.w2, n.b2) }
    let h = hessian(at: point, of: f)
    expectShape(h, [NetworkLoss.count, NetworkLoss.count], "hessian shape")
    expectClose(h, hessian(at: flat(point), of: NetworkLoss.flatLoss), tolerance: 1e-12, "hessian")
    expectClose(
      matmul(h, flat(direction)), hvp(at: point, direction: direction, of: f).flattened(), tolerance: 1e-10, "H v")
    // A map from a structure to a structure: [a, b] ↦ ["s": a + b, "p": a * b].
    let a = Tensor([1.0, 2.0])
    let b = Tensor([3.0, -1.0])
    let j = jacobian(at: [a, b]) { p -> [String: Tensor] in ["s": p[0] + p[1], "p": p[0] * p[1]] }
    // Rows: "p" (2) then "s" (2); columns: a (2) then b (2).
    let expected = Tensor(shape: [4, 4], scalars: [3, 0, 1, 0, 0, -1, 0, 2, 1, 0, 1, 0, 0, 1, 0, 1])
    expectClose(j, expected, tolerance: 0, "structured jacobian (reverse)")
    let wide = jacobian(at: Tensor([1.0, 2.0])) { x -> [Tensor] in [x * 2, x.squared(), x.sum().reshaped(to: [1])] }
    let expectedWide = Tensor(shape: [5, 2], scalars: [2, 0, 0, 2, 2, 0, 0, 4, 1, 1])
    expectClose(wide, expectedWide, tolerance: 0, "structured jacobian (forward)")
  }

  @Test("pullback and jvp of a structure-valued function, and two structured arguments")
  func pullbackAndJVP() {
    let f = { (n: TwoLayerNetwork) -> [String: Tensor] in ["h": tanh(n.w1), "o": n.b2 * n.b2] }
    let (value, back) = valueWithPullback(at: point, of: f)
    let cotangent: [String: Tensor] = ["h": Tensor.ones([4, 5]), "o": Tensor([1, 2, 3])]
    let adjoint = back(cotangent)
    expectClose(adjoint.w1, 1 - value["h"]!.squared(), tolerance: 1e-15, "pullback w1")
    expectClose(adjoint.b2, 2 * point.b2 * Tensor([1, 2, 3]), tolerance: 1e-15, "pullback b2")
    #expect(adjoint.b1.scalars.allSatisfy { $0 == 0 } && adjoint.w2.scalars.allSatisfy { $0 == 0 })
    let (_, tangent) = jvp(at: point, direction: direction, of: f)
    expectClose(tangent["o"]!, 2 * point.b2 * direction.b2, tolerance: 1e-15, "jvp o")
    let differential = valueWithDifferential(at: point, of: f).differential
    expectClose(differential(direction)["h"]!, tangent["h"]!, tolerance: 0, "valueWithDifferential")

    let x: [String: Tensor] = ["decay": Tensor([0.1, 0.2])]
    let (gx, gy) = gradient(at: x, point) { (x: [String: Tensor], n: TwoLayerNetwork) -> Tensor in
      let penalties = Tensor(stacking: [n.w1.squared().sum(), n.w2.squared().sum()])
      return dot(x["decay"]!, penalties)
    }
    expectClose(
      gx["decay"]!, Tensor([point.w1.squared().sum().scalar, point.w2.squared().sum().scalar]), tolerance: 1e-15, "∂/∂x"
    )
    expectClose(gy.w2, 2 * 0.2 * point.w2, tolerance: 1e-15, "∂/∂y")
    let (_, pb) = valueWithPullback(at: x, point) { (x: [String: Tensor], n: TwoLayerNetwork) -> [Tensor] in
      [x["decay"]! * 2, n.b2]
    }
    let (px, py) = pb([Tensor([1, 1]), Tensor([1, 1, 1])])
    expectClose(px["decay"]!, Tensor([2, 2]), tolerance: 0, "two-argument pullback x")
    expectClose(py.b2, Tensor([1, 1, 1]), tolerance: 0, "two-argument pullback y")
  }

  @Test("nested structures (a dictionary of arrays, a struct in a struct) and nesting of operators")
  func nesting() {
    let p: [String: [Tensor]] = ["layer1": [point.w1, point.b1], "layer2": [point.w2, point.b2]]
    let f = { (p: [String: [Tensor]]) in
      NetworkLoss.loss(p["layer1"]![0], p["layer1"]![1], p["layer2"]![0], p["layer2"]![1])
    }
    let g = gradient(at: p, of: f)
    let reference = gradient(at: point) { n in NetworkLoss.loss(n.w1, n.b1, n.w2, n.b2) }
    expectClose(g["layer2"]![0], reference.w2, tolerance: 1e-14, "dictionary of arrays")
    let model = Model(network: point, temperature: Tensor(1.5))
    let gm = gradient(at: model) { m in
      m.temperature * NetworkLoss.loss(m.network.w1, m.network.b1, m.network.w2, m.network.b2)
    }
    expectClose(gm.network.b1, 1.5 * reference.b1, tolerance: 1e-14, "struct in struct")
    expectClose(gm.temperature.scalar, f(p).scalar, tolerance: 1e-14, "temperature")
    // Perturbation confusion with structures: d/dx [x · d/dy (x + y)] = 1, not 2.
    let one = gradient(at: [Tensor(1.0)]) { x in x[0] * gradient(at: [Tensor(1.0)]) { y in x[0] + y[0] }[0] }
    #expect(one[0].scalar == 1)
    // A gradient inside a jvp, over structures at both levels.
    let outer = jvp(at: ["a": Tensor(2.0)], direction: ["a": Tensor(1.0)]) { x in
      gradient(at: [Tensor(3.0)]) { y in x["a"]! * x["a"]! * y[0] * y[0] }[0]
    }
    // ∂/∂y (a² y²) = 2 a² y; its derivative in a is 4 a y = 24.
    #expect(outer.tangent.scalar == 24)
  }

  @Test("an empty structure has an empty gradient, and a function of nothing keeps its value")
  func emptyStructure() {
    let empty: [Tensor] = []
    let (value, g) = valueWithGradient(at: empty) { _ in Tensor(3.0) }
    #expect(value.scalar == 3 && g.isEmpty)
    #expect(hessian(at: empty) { _ in Tensor(1.0) }.shape == [0, 0])
    let none: [String: Tensor] = [:]
    #expect(hvp(at: none, direction: none) { _ in Tensor(1.0) }.isEmpty)
    #expect(none.norm().scalar == 0)
  }

  @Test("calls written against Tensor before structures existed still type-check, literals included")
  func tensorCallsUnchanged() {
    #expect(gradient(at: [1.0, 2.0]) { $0.sum() }.scalars == [1, 1])
    #expect(hvp(at: [1.0, 2.0], direction: [1.0, 0.0]) { $0.squared().sum() }.scalars == [2, 0])
    #expect(hessian(at: [1.0, 2.0]) { $0.squared().sum() }.scalars == [2, 0, 0, 2])
    #expect(gradient(at: 3.0) { $0 * $0 }.scalar == 6)
    #expect(valueWithGradient(at: [1.0, 2.0]) { x in (x * 2).sum() }.value.scalar == 6)
    #expect(gradient(at: [1.0], [2.0]) { x, y in (x * y).sum() }.0.scalars == [2])
    #expect(jacobian(at: [1.0, 2.0]) { $0 * 2 }.scalars == [2, 0, 0, 2])
    #expect(jvp(at: [1.0], direction: [1.0]) { $0 * 2 }.tangent.scalars == [2])
    #expect(pullback(at: [1.0, 2.0]) { $0 * 2 }([1.0, 1.0]).scalars == [2, 2])
  }

  @Test("two structures of different layouts in one operation trap and name both layouts")
  func layoutMismatch() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let a: [String: Tensor] = ["w": Tensor.ones([2, 3]), "b": Tensor.ones([3])]
      let b: [String: Tensor] = ["w": Tensor.ones([2, 3]), "c": Tensor.ones([3])]
      _ = a - b
    }
    let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(text.contains("[b: [3], w: [2, 3]]") && text.contains("[c: [3], w: [2, 3]]"), "\(text)")
    let direction = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = hvp(at: [Tensor.ones([2]), Tensor.ones([3])], direction: [Tensor.ones([2])]) { p in p[0].sum() }
    }
    let message = String(decoding: direction?.standardErrorContent ?? [], as: UTF8.self)
    #expect(message.contains("[[2]]") && message.contains("[[2], [3]]"), "\(message)")
  }
}
