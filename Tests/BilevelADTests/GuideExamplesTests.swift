import Autodiff
import BilevelAD
import Foundation
import Testing

/// The snippets of Docs/Guide.md, compiled and run.
@Suite("Guide examples")
struct GuideExamplesTests {
  @Test("sections 1 and 2: tensors and derivatives")
  func tensorsAndDerivatives() {
    let a = Tensor([1.0, 2.0, 3.0])
    let m: Tensor = [[1, 2], [3, 4]]
    let z = Tensor.zeros([2, 3])
    let o = Tensor.ones([3])
    let r = Tensor(randomNormal: [4, 3], seed: 42)
    let b = m + Tensor([10.0, 20.0])
    let s = (r * 2 - 1).sum(alongAxes: 0)
    _ = (matmul(m, m), m.transposed(), r.gathering(rows: [0, 2]), softplus(a).mean(), z, o)
    #expect(b.scalars == [11, 22, 13, 24])
    #expect(s.shape == [1, 3])

    let x = Tensor([0.5, -1.0, 2.0])
    let v = Tensor([1.0, 0.0, 0.0])
    let f: (Tensor) -> Tensor = { x in (tanh(x) * x).sum() + x.logSumExp() }
    let (_, grad) = valueWithGradient(at: x, of: f)
    let (_, tangent) = jvp(at: x, direction: v, of: f)
    let (_, tangents) = jvp(at: x, directions: Tensor.identity(3), of: f)
    let hv = hvp(at: x, direction: v, mode: .forwardOverReverse, of: f)
    let H = hessian(at: x, of: f)
    let J = jacobian(at: x) { x in exp(x) }
    let pb = pullback(at: x) { x in x.softmax(alongAxis: 0) }
    let (gx, gy) = gradient(at: x, Tensor(2.0)) { x, y in (x * y).sum() }
    #expect(abs(tangent.scalar - grad.scalars[0]) < 1e-14)
    #expect(tangents.shape == [3] && zip(tangents.scalars, grad.scalars).allSatisfy { abs($0 - $1) < 1e-14 })
    #expect(H.shape == [3, 3] && J.shape == [3, 3] && pb(v).shape == [3])
    #expect(gx.scalars == [2, 2, 2] && gy.scalar == 1.5)
    #expect((matmul(H, v) - hv).norm().scalar < 1e-12)
    let third = gradient(at: x) { x in dot(hvp(at: x, direction: v, of: f), v) }
    #expect(third.shape == [3])
    let cube = differentiableFunction(
      { x in x * x * x },
      jvp: { x, _, t in 3 * x.squared() * t },
      vjp: { x, _, c in 3 * x.squared() * c })
    let d2 = hvp(at: x, direction: v) { x in cube(x).sum() }
    #expect((d2 - 6 * x * v).norm().scalar < 1e-12)
  }

  @Test("section 2: a fused elementwise function")
  func fusedElementwise() {
    let terms = ElementwiseFunction { a, b in 100 * (b - a.squared()).squared() + (1 - a).squared() }
    let rosenbrock: (Tensor) -> Tensor = { x in
      let d = x.scalarCount
      return terms.sum(x.slicing(0..<(d - 1)), x.slicing(1..<d))  // Σ terms; slices of a range copy nothing
    }
    let point = Tensor(randomNormal: [100_000], seed: 1)
    let fastGradient = gradient(at: point, of: rosenbrock)  // as the unfused form, to rounding
    let plain = gradient(at: point) { x in
      let d = x.scalarCount
      let (head, tail) = (x.slicing(0..<(d - 1)), x.slicing(1..<d))
      return (100 * (tail - head.squared()).squared() + (1 - head).squared()).sum()
    }
    #expect((fastGradient - plain).norm().scalar <= 1e-12 * plain.norm().scalar)
  }

  @Test("sections 3 to 5: a bilevel problem, an algorithm, a finite sum on a CSV file")
  func bilevel() throws {
    let features = Tensor(randomNormal: [40, 5], seed: 1)
    let labels = Tensor((0..<40).map { Double($0 % 2) })
    let validation = Tensor(randomNormal: [30, 5], seed: 2)
    let validationLabels = Tensor((0..<30).map { Double($0 % 2) })
    let problem = BilevelProblem(
      outer: { _, w in
        let z = matmul(validation, w)
        return (softplus(z) - validationLabels * z).mean()
      },
      inner: { lambda, w in
        let z = matmul(features, w)
        return (softplus(z) - labels * z).mean() + 0.5 * (exp(lambda) * w.squared()).sum()
      })
    let lambda = Tensor(shape: [5], repeating: -1)
    let inner = problem.solveInner(x: lambda, y0: Tensor.zeros([5]))
    let h = problem.implicitHypergradient(x: lambda, y: inner.solution)
    #expect(h.converged)
    let check = problem.checkHypergradient(
      x: lambda, y0: inner.solution, direction: Tensor.ones([5]), estimate: h.gradient)
    #expect(check.relativeDiscrepancy < 1e-6)
    let result = solve(
      problem, x0: lambda, y0: inner.solution, algorithm: AIDBIO(outerStep: 1),
      stopping: StoppingRule(maxIterations: 100, hypergradientTolerance: 1e-6), evaluateEvery: 10)
    #expect(result.trace.records.last!.outerValue! < result.trace.records.first!.outerValue!)
    #expect(result.trace.csv().contains("aid-bio"))

    // Section 5 on a generated CSV file.
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("guide-\(UUID()).csv")
    let rows = (0..<300).map { i -> String in
      let f = Tensor(randomNormal: [4], seed: UInt64(i)).scalars
      return (f.map { "\($0)" } + [f[0] + 0.5 * f[1] > 0 ? "1" : "0"]).joined(separator: ",")
    }
    try ("a,b,c,d,label\n" + rows.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: url) }
    let data = try Dataset.load(csv: url.path)
    let (train, valid) = (data.subset(Array(0..<200)), data.subset(Array(200..<300)))
    let (X, t) = (train.features, train.binaryLabels)
    let (V, s) = (valid.features, valid.binaryLabels)
    let finiteSum = BilevelProblem(
      outerSampleCount: valid.sampleCount, innerSampleCount: train.sampleCount,
      outer: { _, w, batch in
        let z = matmul(V.gathering(rows: batch), w)
        return (softplus(z) - s.gathering(rows: batch) * z).mean()
      },
      inner: { lambda, w, batch in
        let z = matmul(X.gathering(rows: batch), w)
        return (softplus(z) - t.gathering(rows: batch) * z).mean() + 0.5 * (exp(lambda) * w.squared()).sum()
      })
    let run = solve(
      finiteSum, x0: Tensor.zeros([data.featureCount]), y0: Tensor.zeros([data.featureCount]),
      algorithm: SABA(innerStep: .constant(0.1), settings: StochasticSettings(batchSize: 32, seed: 7)),
      stopping: StoppingRule(maxIterations: 200), evaluateEvery: 200)
    #expect(run.trace.records.last!.outerValue! < run.trace.records.first!.outerValue!)
  }
}

/// The Guide's `Network` struct (section 6), verbatim.
private struct Network: TensorStructure {
  var w1, b1, w2, b2: Tensor
  mutating func visitTensors(_ visit: (inout Tensor) -> Void) {
    visit(&w1)
    visit(&b1)
    visit(&w2)
    visit(&b2)
  }
  func logits(_ a: Tensor) -> Tensor { matmul(tanh(matmul(a, w1) + b1), w2) + b2 }
}

@Suite("Guide: your model's parameters")
struct GuideStructureExamplesTests {
  @Test("the structure snippet computes what it says")
  func snippet() {
    let p: [String: Tensor] = ["w": Tensor.ones([3, 2]), "b": Tensor.zeros([2])]
    let g = gradient(at: p) { p in matmul(Tensor.ones([1, 3]), p["w"]!).sum() + p["b"]!.sum() }
    let step = p - 0.1 * g
    #expect(g["w"]!.scalars == [1, 1, 1, 1, 1, 1] && g["b"]!.scalars == [1, 1])
    #expect(abs(dot(g, g).scalar - 8) < 1e-15 && abs(g.norm().scalar - 8.0.squareRoot()) < 1e-15)
    #expect(step.layoutDescription == "[b: [2], w: [3, 2]]")
    #expect(step["b"]!.scalars == [-0.1, -0.1])
  }

  @Test("the hyper-cleaning program with a tanh network runs and cleans")
  func hyperCleaningWithNetwork() throws {
    let digits = try Dataset.bundled(.digits)
    let parts = digits.split(sizes: [600, 300, digits.sampleCount - 900], seed: 0)
    let (mean, deviation) = parts[0].featureStatistics()
    let (train, corrupted) = parts[0].standardized(mean: mean, deviation: deviation).corruptingLabels(
      fraction: 0.5, seed: 1)
    let valid = parts[1].standardized(mean: mean, deviation: deviation)
    let test = parts[2].standardized(mean: mean, deviation: deviation)
    let (A, T, V, S) = (train.features, train.oneHotLabels, valid.features, valid.oneHotLabels)

    func crossEntropy(_ logits: Tensor, _ targets: Tensor) -> Tensor {
      logits.logSumExp(squeezingAxes: 1) - (logits * targets).sum(squeezingAxes: 1)
    }
    let problem = BilevelProblem(
      outerSampleCount: valid.sampleCount, innerSampleCount: train.sampleCount,
      outer: { (_: Tensor, net: Network, batch: [Int]) in
        crossEntropy(net.logits(V.gathering(rows: batch)), S.gathering(rows: batch)).mean()
      },
      inner: { weights, net, batch in
        let losses = crossEntropy(net.logits(A.gathering(rows: batch)), T.gathering(rows: batch))
        return (sigmoid(weights.gathering(rows: batch)) * losses).mean() + 5e-3 * dot(net, net)
      })

    let hidden = 16
    var net0 = Network(
      w1: Tensor(randomNormal: [64, hidden], seed: 2) / 8, b1: Tensor.zeros([hidden]),
      w2: Tensor(randomNormal: [hidden, 10], seed: 3) / 4, b2: Tensor.zeros([10]))
    let weights0 = Tensor.zeros([train.sampleCount])
    net0 =
      problem.solveInner(x: weights0, y0: net0, tolerance: 1e-6, maxIterations: 300, method: .gradientDescent).solution

    let h = problem.implicitHypergradient(x: weights0, y: net0)
    #expect(h.gradient.shape == [train.sampleCount] && h.linearSolution?.w2.shape == [hidden, 10])
    let run = solve(
      problem, x0: weights0, y0: net0,
      algorithm: SABA(innerStep: .constant(0.5), outerRatio: 0.5 / 300, settings: StochasticSettings(batchSize: 64)),
      stopping: StoppingRule(maxIterations: 200), evaluateEvery: 200,
      evaluator: { _, net in Evaluation(metrics: ["test accuracy": test.accuracy(scores: net.logits(test.features))]) })
    let weights = sigmoid(run.x).scalars
    let accuracy = run.trace.records.last!.metrics["test accuracy"]!
    let before = run.trace.records.first!.metrics["test accuracy"]!
    let corruptedWeight = corrupted.map { weights[$0] }.reduce(0, +) / Double(corrupted.count)
    let clean = Set(0..<train.sampleCount).subtracting(corrupted)
    let cleanWeight = clean.map { weights[$0] }.reduce(0, +) / Double(clean.count)
    #expect(accuracy > before + 0.05, "test accuracy \(before) → \(accuracy)")
    #expect(corruptedWeight < cleanWeight - 0.1, "mean weights: corrupted \(corruptedWeight), clean \(cleanWeight)")
  }
}
