import Autodiff

/// The scalar functions of the HVP check and the benchmark, with a point and a direction.
struct TestFunction {
  let name: String
  let description: String
  let point: Tensor
  let direction: Tensor
  let function: (Tensor) -> Tensor

  /// Logistic regression with L2: mean(softplus(X w) − y (X w)) + 0.05 ‖w‖², X of n × d.
  static func logistic(samples n: Int, features d: Int, seed: UInt64 = 1) -> TestFunction {
    let x = Tensor(randomNormal: [n, d], seed: seed)
    let labels = Tensor(Tensor(randomNormal: [n], seed: seed &+ 1).scalars.map { $0 > 0 ? 1 : 0 })
    return TestFunction(
      name: "logistic \(n) x \(d)", description: "L2 logistic regression, \(n) samples, \(d) features",
      point: Tensor(randomNormal: [d], seed: seed &+ 2) * 0.1, direction: Tensor(randomNormal: [d], seed: seed &+ 3)
    ) { w in
      let z = matmul(x, w)
      return (softplus(z) - labels * z).mean() + 0.05 * w.squared().sum()
    }
  }

  /// A tanh MLP inputs-hidden-classes with softmax cross-entropy on a batch, all parameters
  /// in one vector.
  static func mlp(inputs: Int = 64, hidden: Int = 128, classes: Int = 10, batch: Int = 256, seed: UInt64 = 1) -> TestFunction {
    let data = Tensor(randomNormal: [batch, inputs], seed: seed)
    var targets = [Double](repeating: 0, count: batch * classes)
    var generator = SeededRandomNumberGenerator(seed: seed &+ 1)
    for i in 0..<batch { targets[i * classes + Int.random(in: 0..<classes, using: &generator)] = 1 }
    let oneHot = Tensor(shape: [batch, classes], scalars: targets)
    let sizes = [inputs * hidden, hidden, hidden * classes, classes]
    let count = sizes.reduce(0, +)
    return TestFunction(
      name: "mlp \(inputs)-\(hidden)-\(classes)", description: "tanh MLP, batch \(batch), \(count) parameters",
      point: Tensor(randomNormal: [count], seed: seed &+ 2) * 0.1, direction: Tensor(randomNormal: [count], seed: seed &+ 3)
    ) { p in
      var offset = 0
      func take(_ size: Int, _ shape: [Int]) -> Tensor {
        defer { offset += size }
        return p.slicing(offset..<(offset + size)).reshaped(to: shape)
      }
      let w1 = take(sizes[0], [inputs, hidden]), b1 = take(sizes[1], [hidden])
      let w2 = take(sizes[2], [hidden, classes]), b2 = take(sizes[3], [classes])
      let logits = matmul(tanh(matmul(data, w1) + b1), w2) + b2
      return (logits.logSumExp(squeezingAxes: 1) - (logits * oneHot).sum(squeezingAxes: 1)).mean()
    }
  }

  /// Rosenbrock: Σ 100 (x_{i+1} − x_i²)² + (1 − x_i)².
  static func rosenbrock(dimension d: Int, seed: UInt64 = 1) -> TestFunction {
    TestFunction(
      name: "rosenbrock \(d)", description: "Rosenbrock in \(d) dimensions",
      point: Tensor(randomNormal: [d], seed: seed) * 0.5, direction: Tensor(randomNormal: [d], seed: seed &+ 1)
    ) { x in
      let head = x.slicing(0..<(d - 1))
      let tail = x.slicing(1..<d)
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

/// Median, minimum and maximum microseconds of `body` over `repeats` runs after warm-up.
func measure(repeats: Int, warmup: Int = 3, _ body: () -> Void) -> (median: Double, min: Double, max: Double) {
  for _ in 0..<warmup { body() }
  var samples: [Double] = []
  samples.reserveCapacity(repeats)
  for _ in 0..<max(repeats, 1) {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
  }
  samples.sort()
  return (samples[samples.count / 2], samples.first!, samples.last!)
}

import Dispatch
