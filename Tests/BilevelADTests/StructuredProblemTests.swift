import Autodiff
import BilevelAD
import Foundation
import Testing

// Bilevel problems over structures: y is a two-layer tanh network's parameters (a user's
// struct), x one log weight decay per layer ([String: Tensor]). Every estimator and
// algorithm must give what the same problem written by hand on flat vectors gives.

/// A two-layer network's parameters, as a user writes them.
struct TwoLayerParameters: TensorStructure {
  var w1, b1, w2, b2: Tensor
  mutating func visitTensors(_ visit: (inout Tensor) -> Void) {
    visit(&w1)
    visit(&b1)
    visit(&w2)
    visit(&b2)
  }

  /// Small random weights for `inputs`-`hidden`-`classes`.
  init(inputs: Int, hidden: Int, classes: Int, seed: UInt64) {
    w1 = Tensor(randomNormal: [inputs, hidden], seed: seed) * 0.3
    b1 = Tensor.zeros([hidden])
    w2 = Tensor(randomNormal: [hidden, classes], seed: seed &+ 1) * 0.3
    b2 = Tensor.zeros([classes])
  }

  /// Mean softmax cross-entropy on `rows` of (data, oneHot).
  func loss(_ data: Tensor, _ oneHot: Tensor, rows: [Int]) -> Tensor {
    let x = data.gathering(rows: rows)
    let t = oneHot.gathering(rows: rows)
    let logits = matmul(tanh(matmul(x, w1) + b1), w2) + b2
    return (logits.logSumExp(squeezingAxes: 1) - (logits * t).sum(squeezingAxes: 1)).mean()
  }
}

/// Weight-decay selection for a 3-4-2 network: the structured problem and its flat twin.
struct LayerDecayTask {
  static let (inputs, hidden, classes) = (3, 4, 2)
  static let (trainCount, validCount) = (24, 12)
  let train: Tensor, trainTargets: Tensor, valid: Tensor, validTargets: Tensor
  let structured: BilevelProblem
  let flat: BilevelProblem
  let x0: [String: Tensor] = ["layer1": Tensor(log(0.05)), "layer2": Tensor(log(0.1))]
  let y0 = TwoLayerParameters(inputs: inputs, hidden: hidden, classes: classes, seed: 3)

  init() {
    func oneHot(_ data: Tensor, seed: UInt64) -> Tensor {
      let w = Tensor(randomNormal: [Self.inputs], seed: seed)
      let scores = matmul(data, w).scalars
      return Tensor(shape: [data.shape[0], 2], scalars: scores.flatMap { $0 > 0 ? [1.0, 0.0] : [0.0, 1.0] })
    }
    let train = Tensor(randomNormal: [Self.trainCount, Self.inputs], seed: 41)
    let valid = Tensor(randomNormal: [Self.validCount, Self.inputs], seed: 42)
    let trainTargets = oneHot(train, seed: 43)
    let validTargets = oneHot(valid, seed: 43)
    (self.train, self.trainTargets, self.valid, self.validTargets) = (train, trainTargets, valid, validTargets)

    func penalty(_ decay: [String: Tensor], _ n: TwoLayerParameters) -> Tensor {
      0.5
        * (exp(decay["layer1"]!) * (n.w1.squared().sum() + n.b1.squared().sum())
          + exp(decay["layer2"]!) * (n.w2.squared().sum() + n.b2.squared().sum()))
    }
    structured = BilevelProblem(
      outerSampleCount: Self.validCount, innerSampleCount: Self.trainCount,
      outer: { (_: [String: Tensor], y: TwoLayerParameters, batch: [Int]) in y.loss(valid, validTargets, rows: batch) },
      inner: { x, y, batch in y.loss(train, trainTargets, rows: batch) + penalty(x, y) })

    // The same problem on flat vectors, sliced by hand in the structures' orders:
    // x = (layer1, layer2) (the dictionary's keys sorted), y = (w1, b1, w2, b2).
    let layout = y0
    func network(_ flat: Tensor) -> TwoLayerParameters {
      var offset = 0
      return layout.mapTensors { t in
        defer { offset += t.scalarCount }
        return flat.slicing(offset..<(offset + t.scalarCount)).reshaped(to: t.shape)
      }
    }
    func decays(_ flat: Tensor) -> [String: Tensor] {
      ["layer1": flat.slicing(0..<1).reshaped(to: []), "layer2": flat.slicing(1..<2).reshaped(to: [])]
    }
    flat = BilevelProblem(
      outerSampleCount: Self.validCount, innerSampleCount: Self.trainCount,
      outer: { (_: Tensor, y: Tensor, batch: [Int]) in network(y).loss(valid, validTargets, rows: batch) },
      inner: { x, y, batch in network(y).loss(train, trainTargets, rows: batch) + penalty(decays(x), network(y)) })
  }

  var flatX0: Tensor { x0.flattened() }
  var flatY0: Tensor { y0.flattened() }
}

@Suite("Bilevel problems over structures")
struct StructuredProblemTests {
  let task = LayerDecayTask()

  @Test(
    "solveInner, implicit (every linear solver), unrolled (every mode) and finite differences match the flat problem to 1e-10"
  )
  func estimatorsMatchFlat() {
    let inner = task.structured.solveInner(x: task.x0, y0: task.y0)
    let flatInner = task.flat.solveInner(x: task.flatX0, y0: task.flatY0)
    #expect(inner.converged && flatInner.converged, "\(inner.diagnostics)")
    #expect(relativeError(inner.solution.flattened(), flatInner.solution) <= 1e-12)
    let y = inner.solution

    let solvers: [LinearSolver] = [
      .conjugateGradient(maxIterations: 200, tolerance: 1e-12), .dense, .gmres(),
      .neumann(terms: 50, stepSize: 0.5), .identity(scale: 1),
    ]
    for solver in solvers {
      let name = solver.name
      let h = task.structured.implicitHypergradient(x: task.x0, y: y, solver: solver)
      let reference = task.flat.implicitHypergradient(x: task.flatX0, y: flatInner.solution, solver: solver)
      #expect(h.gradient.hasSameLayout(as: task.x0))
      #expect(relativeError(h.gradient.flattened(), reference.gradient) <= 1e-10, "\(name)")
      #expect(h.converged == reference.converged, "\(name)")
      guard [.dense, .gmres()].contains(solver) || name == "conjugate-gradient" else { continue }
      #expect(h.converged, "\(name): \(h.diagnostics)")
      #expect(h.linearSolution?.hasSameLayout(as: y) ?? true)
      let direction: [String: Tensor] = ["layer1": Tensor(1), "layer2": Tensor(-0.5)]
      let check = task.structured.checkHypergradient(x: task.x0, y0: y, direction: direction, estimate: h.gradient)
      #expect(check.relativeDiscrepancy <= 1e-6, "\(name): \(check.relativeDiscrepancy)")
    }
    let implicit = task.structured.implicitHypergradient(
      x: task.x0, y: y, solver: .conjugateGradient(maxIterations: 200, tolerance: 1e-12))

    for mode in [UnrollMode.reverse, .forward, .truncated(lastSteps: 10), .checkpointed(every: 7)] {
      let u = task.structured.unrolledHypergradient(
        x: task.x0, y0: task.y0, steps: 30, innerLearningRate: 0.5, mode: mode)
      let reference = task.flat.unrolledHypergradient(
        x: task.flatX0, y0: task.flatY0, steps: 30, innerLearningRate: 0.5, mode: mode)
      #expect(relativeError(u.gradient.flattened(), reference.gradient) <= 1e-10, "\(mode)")
      #expect(u.innerIterate?.hasSameLayout(as: task.y0) == true)
    }
    // Unrolled long enough from y*, reverse mode approaches the implicit hypergradient.
    let warm = task.structured.unrolledHypergradient(x: task.x0, y0: y, steps: 400, innerLearningRate: 0.5)
    #expect(relativeError(warm.gradient.flattened(), implicit.gradient.flattened()) <= 1e-4)

    let fd = task.structured.finiteDifferenceHypergradient(x: task.x0, y: y)
    #expect(relativeError(fd.gradient.flattened(), implicit.gradient.flattened()) <= 1e-5)
    let (value, solution) = task.structured.outerObjective(x: task.x0, y0: task.y0)
    #expect(abs(value - task.flat.outerObjective(x: task.flatX0, y0: task.flatY0).value) <= 1e-12)
    #expect(solution.solution.hasSameLayout(as: task.y0))
  }

  @Test(
    "the driver runs algorithms on the structured problem with the flat problem's trace",
    arguments: [
      "aid-bio", "itd-bio", "k-rmd", "bome", "v-pbgd", "f2sa", "f2ba", "hjfbio", "soba", "saba", "srba", "stocbio",
      "amigo",
    ])
  func driverMatchesFlat(name: String) {
    let settings = StochasticSettings(batchSize: 8, seed: 3)
    let algorithm: any BilevelAlgorithm =
      switch name {
      case "aid-bio": AIDBIO(outerStep: 0.5, innerStep: 0.5, innerIterations: 5)
      case "itd-bio": ITDBIO(outerStep: 0.5, innerStep: 0.5, innerIterations: 5)
      case "k-rmd": KRMD(outerStep: 0.5, innerStep: 0.5, innerIterations: 5, truncatedIterations: 3)
      case "bome": BOME(jointStep: 0.05, innerStep: 0.5, innerIterations: 5)
      case "v-pbgd": VPBGD(jointStep: 0.01, innerStep: 0.5, innerIterations: 5, penalty: (10, 10, 0))
      case "f2sa": F2SA(settings: StochasticSettings(batchSize: nil))
      case "f2ba": F2BA()
      case "hjfbio": HJFBiO(innerStep: 0.5, linearSystemStep: 0.5, outerStep: 0.3)
      case "soba": SOBA(settings: settings)
      case "saba": SABA(innerStep: .constant(0.5), outerRatio: 0.2, settings: settings)
      case "srba": SRBA(settings: settings)
      case "stocbio": StocBiO(settings: settings)
      default: AmIGO(settings: settings)
      }
    #expect(algorithm.name == name)
    let stopping = StoppingRule(maxIterations: 4)
    let structured = solve(
      task.structured, x0: task.x0, y0: task.y0, algorithm: algorithm, stopping: stopping, evaluateEvery: 2)
    let flat = solve(
      task.flat, x0: task.flatX0, y0: task.flatY0, algorithm: algorithm, stopping: stopping, evaluateEvery: 2)
    #expect(structured.trace.records.count == flat.trace.records.count)
    for (a, b) in zip(structured.trace.records, flat.trace.records) {
      #expect(a.counts == b.counts, "\(algorithm.name) iteration \(a.iteration)")
      for (u, v) in [
        (a.outerValue, b.outerValue), (a.hypergradientNorm, b.hypergradientNorm), (a.directionNorm, b.directionNorm),
      ] {
        if let u, let v {
          #expect(abs(u - v) <= 1e-12 * max(1, abs(v)), "\(algorithm.name) iteration \(a.iteration): \(u) vs \(v)")
        } else {
          #expect(u == nil && v == nil)
        }
      }
    }
    #expect(relativeError(structured.x.flattened(), flat.x) <= 1e-12, "\(algorithm.name) x")
    #expect(relativeError(structured.y.flattened(), flat.y) <= 1e-12, "\(algorithm.name) y")
    #expect(structured.y.w2.shape == [LayerDecayTask.hidden, LayerDecayTask.classes])
  }

  @Test("a user's evaluator receives the structures")
  func evaluatorSeesStructures() {
    let result = solve(
      task.structured, x0: task.x0, y0: task.y0, algorithm: AIDBIO(outerStep: 0.5),
      stopping: StoppingRule(maxIterations: 2),
      evaluator: { (x: [String: Tensor], y: TwoLayerParameters) in
        Evaluation(
          outerValue: y.loss(task.valid, task.validTargets, rows: Array(0..<LayerDecayTask.validCount)).scalar,
          metrics: ["decay1": exp(x["layer1"]!.scalar)])
      })
    #expect(result.trace.records.count == 3)
    #expect(result.trace.records.allSatisfy { $0.metrics["decay1"] != nil })
  }

  @Test(
    "a plain problem over tensors keeps its behaviour, and a structured problem called with the wrong types traps naming them"
  )
  func wrongTypes() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let task = LayerDecayTask()
      _ = task.structured.solveInner(x: Tensor([0.0, 0.0]), y0: task.y0)
    }
    let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(text.contains("Dictionary<String, Tensor>") && text.contains("got x of type Tensor"), "\(text)")
  }
}
