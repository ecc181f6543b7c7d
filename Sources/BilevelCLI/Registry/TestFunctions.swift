import Autodiff
import BilevelAD
import Dispatch

/// The scalar functions of the HVP check and the benchmark, with a point and a direction.
struct TestFunction {
  let name: String
  let description: String
  let point: Tensor
  let direction: Tensor
  let function: (Tensor) -> Tensor

  /// Logistic regression with L2: mean(softplus(X w) − y (X w)) + 0.05 ‖w‖², X of n × d;
  /// `fused`: the sum of the loss terms softplus(z) − y z as one `ElementwiseFunction`.
  static func logistic(samples n: Int, features d: Int, fused: Bool = false, seed: UInt64 = 1) -> TestFunction {
    let x = Tensor(randomNormal: [n, d], seed: seed)
    let labels = Tensor(Tensor(randomNormal: [n], seed: seed &+ 1).scalars.map { $0 > 0 ? 1 : 0 })
    let terms = ElementwiseFunction { z, y in softplus(z) - y * z }
    return TestFunction(
      name: "logistic \(n) x \(d)\(fused ? " fused" : "")",
      description: "L2 logistic regression, \(n) samples, \(d) features\(fused ? ", fused loss terms" : "")",
      point: Tensor(randomNormal: [d], seed: seed &+ 2) * 0.1, direction: Tensor(randomNormal: [d], seed: seed &+ 3)
    ) { w in
      let z = matmul(x, w)
      let loss = fused ? terms.sum(z, labels) / Double(n) : (softplus(z) - labels * z).mean()
      return loss + 0.05 * w.squared().sum()
    }
  }

  /// A tanh MLP inputs-hidden-classes with softmax cross-entropy on a batch, all parameters
  /// in one vector (sliced back into W₁, b₁, W₂, b₂ inside the function).
  static func mlp(inputs: Int = 64, hidden: Int = 128, classes: Int = 10, batch: Int = 256, seed: UInt64 = 1)
    -> TestFunction
  {
    let parts = MLPParts(inputs: inputs, hidden: hidden, classes: classes, batch: batch, seed: seed)
    return TestFunction(
      name: "mlp \(inputs)-\(hidden)-\(classes)", description: "tanh MLP, batch \(batch), \(parts.count) parameters",
      point: parts.point.flattened(), direction: parts.direction.flattened()
    ) { p in parts.loss(parts.point.unflattened(p)) }  // four slices of the flat vector
  }

  /// Rosenbrock: Σ 100 (x_{i+1} − x_i²)² + (1 − x_i)²; `fused`: the sum of the terms as
  /// one `ElementwiseFunction`.
  static func rosenbrock(dimension d: Int, fused: Bool = false, seed: UInt64 = 1) -> TestFunction {
    let terms = ElementwiseFunction { a, b in 100 * (b - a.squared()).squared() + (1 - a).squared() }
    return TestFunction(
      name: "rosenbrock \(d)\(fused ? " fused" : "")",
      description: "Rosenbrock in \(d) dimensions\(fused ? ", fused terms" : "")",
      point: Tensor(randomNormal: [d], seed: seed) * 0.5, direction: Tensor(randomNormal: [d], seed: seed &+ 1)
    ) { x in
      let head = x.slicing(0..<(d - 1))
      let tail = x.slicing(1..<d)
      if fused { return terms.sum(head, tail) }
      return (100 * (tail - head.squared()).squared() + (1 - head).squared()).sum()
    }
  }

  /// A dense quadratic ½ xᵀ A x + bᵀ x with A = QᵀQ/d + I.
  static func quadratic(dimension d: Int, seed: UInt64 = 1) -> TestFunction {
    let q = Tensor(randomNormal: [d, d], seed: seed)
    let a = matmul(q, transposed: true, q) / Double(d) + Tensor.identity(d)
    let b = Tensor(randomNormal: [d], seed: seed &+ 1)
    return TestFunction(
      name: "quadratic \(d)", description: "dense quadratic in \(d) dimensions",
      point: Tensor(randomNormal: [d], seed: seed &+ 2), direction: Tensor(randomNormal: [d], seed: seed &+ 3)
    ) { x in 0.5 * dot(x, matmul(a, x)) + dot(b, x) }
  }
}

/// Median, minimum and maximum microseconds of `body` over `repeats` runs after warm-up,
/// or over more runs while they add up to less than `minimumTime` seconds (at most
/// `maximumRepeats`): a body of a few microseconds is then timed hundreds of times, as the
/// JAX peer script times its fast cases, and its median is not that of its first,
/// colder runs.
func measure(
  repeats: Int, warmup: Int = 3, minimumTime: Double = 0, maximumRepeats: Int = 1000, _ body: () -> Void
) -> (median: Double, min: Double, max: Double) {
  for _ in 0..<warmup { body() }
  var samples: [Double] = []
  samples.reserveCapacity(repeats)
  var total = 0.0
  while samples.count < max(repeats, 1) || (total < minimumTime * 1e6 && samples.count < maximumRepeats) {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1000
    samples.append(elapsed)
    total += elapsed
  }
  samples.sort()
  return (samples[samples.count / 2], samples.first!, samples.last!)
}

/// The MLP benchmark's data, point and direction as a `TanhMLP` structure, for timing the
/// same loss written on a flat vector, a dictionary and a struct.
struct MLPParts {
  let point: TanhMLP
  let direction: TanhMLP
  let loss: (TanhMLP) -> Tensor
  var count: Int { point.scalarCount }

  init(inputs: Int, hidden: Int, classes: Int, batch: Int, seed: UInt64) {
    let data = Tensor(randomNormal: [batch, inputs], seed: seed)
    var targets = [Double](repeating: 0, count: batch * classes)
    var generator = SeededRandomNumberGenerator(seed: seed &+ 1)
    for i in 0..<batch { targets[i * classes + Int.random(in: 0..<classes, using: &generator)] = 1 }
    let oneHot = Tensor(shape: [batch, classes], scalars: targets)
    let layout = TanhMLP(inputs: inputs, hidden: hidden, classes: classes, seed: 0)
    let count = layout.scalarCount
    point = layout.unflattened(Tensor(randomNormal: [count], seed: seed &+ 2) * 0.1)
    direction = layout.unflattened(Tensor(randomNormal: [count], seed: seed &+ 3))
    loss = { network in network.crossEntropy(data, targets: oneHot).mean() }
  }

  /// The network as a dictionary "w1", "b1", "w2", "b2".
  static func dictionary(_ n: TanhMLP) -> [String: Tensor] { ["w1": n.w1, "b1": n.b1, "w2": n.w2, "b2": n.b2] }

  /// The dictionary as a network.
  static func network(_ d: [String: Tensor]) -> TanhMLP {
    TanhMLP(w1: d["w1"]!, b1: d["b1"]!, w2: d["w2"]!, b2: d["b2"]!)
  }
}
