import Autodiff
import BilevelAD
import Foundation
import Testing

@Suite("Single-loop stochastic algorithms: MSTSA, ALSET, STABLE, SBFW, F3SA, AdaPAG")
struct SingleLoopStochasticAlgorithmTests {
  /// The benchmark's quadratic finite sum, small: ‖∇F(x₀)‖ = 4.6 at x₀ = −2·1.
  static var task: QuadraticFiniteSum {
    QuadraticFiniteSum(innerSamples: 64, outerSamples: 64, innerDimension: 10, outerDimension: 5, seed: 1)
  }
  static var x0: Tensor { -2 * Tensor.ones([5]) }
  static var y0: Tensor { Tensor.zeros([10]) }
  static let batches = StochasticSettings(batchSize: 8, seed: 3)
  /// A ball around 0 that holds x₀ (‖x₀‖ = 4.5) and the unconstrained optimum (‖x*‖ = 2.2),
  /// so that Frank-Wolfe's stationary point is the unconstrained one.
  static let frankWolfeBall = ConstraintSet.ball(radius: 5)

  /// Measured levels, asserted with a margin of about 2. None of the six methods removes
  /// the mini-batch noise entirely, so each stalls at a noise floor: the randomized Neumann
  /// estimate (MSTSA, ALSET, SBFW), the plain stochastic gradients next to STABLE's
  /// averaged matrices, AdaPAG's batch Hessians (8 rank-one terms in dimension 10, clipped
  /// at μ), and F3SA's O(1/λ) penalty bias with y's tracking error.
  static let cases: [AlgorithmCase] = [
    // 4.6 → 0.21 (0.24 at the end) in 300 iterations.
    AlgorithmCase(
      algorithm: MSTSA(
        innerStep: .decreasing(1, exponent: 0.5), outerRatio: 3, momentum: .decreasing(1, exponent: 0.5),
        neumannStep: .constant(1), neumannTerms: 20, settings: batches),
      iterations: 300, level: 0.5),
    // 4.6 → 0.085 (0.11 at the end) in 300 iterations.
    AlgorithmCase(
      algorithm: ALSET(
        innerStep: .decreasing(1, exponent: 0.5), outerRatio: 3, innerIterations: 3, neumannStep: .constant(1),
        neumannTerms: 20, settings: batches),
      iterations: 300, level: 0.25),
    // 4.6 → 0.059 (0.12 at the end) in 300 iterations.
    AlgorithmCase(
      algorithm: STABLE(
        innerStep: .decreasing(0.5, exponent: 0.25), outerRatio: 3, momentum: .decreasing(1, exponent: 1),
        hessianLowerBound: 0.05, settings: batches),
      iterations: 300, level: 0.25),
    // 4.6 → 0.13 (0.15 at the end) in 400 iterations.
    AlgorithmCase(
      algorithm: SBFW(
        constraint: frankWolfeBall, innerStep: .decreasing(0.3, exponent: 0.25),
        outerStep: .decreasing(1, exponent: 1),
        momentum: .constant(0.1), neumannStep: .constant(1), neumannTerms: 20, settings: batches),
      iterations: 400, level: 0.3),
    // 4.6 → 0.031 (0.039 at the end) in 1500 iterations (λ = 151).
    AlgorithmCase(
      algorithm: F3SA(
        innerStep: .constant(0.3), momentum: .decreasing(1, exponent: 0.5), multiplierIncrement: .constant(0.1),
        settings: batches),
      iterations: 1500, level: 0.08),
    // 4.6 → 0.2 in 300 iterations.
    AlgorithmCase(
      algorithm: AdaPAG(
        innerStep: .decreasing(0.1, exponent: 0.5), outerRatio: 0.3, adaptiveLowerBound: 0.3, hessianLowerBound: 0.05,
        settings: batches),
      iterations: 300, level: 0.4),
  ]

  /// Full batches with the expected Neumann truncation (N = 150 terms of step 1) make the
  /// methods deterministic; their estimates are then exact up to the (1 − μ)^N truncation.
  static let deterministic = StochasticSettings(batchSize: nil, neumannTruncation: .expected)
  static let deterministicCases: [AlgorithmCase] = [
    // Measured iterations to 4.6e-6: MSTSA 150, ALSET 150, STABLE 170, SBFW 190, AdaPAG 160.
    AlgorithmCase(
      algorithm: MSTSA(
        innerStep: .constant(1), outerRatio: 3, momentum: .constant(1), neumannStep: .constant(1), neumannTerms: 150,
        settings: deterministic),
      iterations: 250, level: 4.6e-6),
    AlgorithmCase(
      algorithm: ALSET(
        innerStep: .constant(1), outerRatio: 3, innerIterations: 3, neumannStep: .constant(1), neumannTerms: 150,
        settings: deterministic),
      iterations: 250, level: 4.6e-6),
    AlgorithmCase(
      algorithm: STABLE(
        innerStep: .constant(1), outerRatio: 3, momentum: .constant(1), hessianLowerBound: 0.01, settings: deterministic
      ),
      iterations: 250, level: 4.6e-6),
    AlgorithmCase(
      algorithm: SBFW(
        constraint: frankWolfeBall, innerStep: .constant(1), outerStep: .decreasing(1, exponent: 1),
        momentum: .constant(1),
        neumannStep: .constant(1), neumannTerms: 150, smoothness: 1, settings: deterministic),
      iterations: 250, level: 4.6e-6),
    AlgorithmCase(
      algorithm: AdaPAG(
        innerStep: .constant(1), outerRatio: 3, adaptiveLowerBound: 1, hessianLowerBound: 0.01, settings: deterministic),
      iterations: 250, level: 4.6e-6),
  ]

  @Test(
    "with full batches and every Neumann term, ‖∇F‖ falls six orders, from 4.6 below 4.6e-6",
    arguments: deterministicCases)
  func deterministicSixOrders(testCase: AlgorithmCase) {
    let task = Self.task
    expectLevelAtEndOfBudget(
      testCase, problem: task.problem, x0: Self.x0, y0: Self.y0, evaluateEvery: 10, stochastic: false, start: 4.62,
      evaluator: task.evaluator())
  }

  @Test("F3SA with full batches: its error is the penalty's O(1/λ), a quarter when λ is four times larger")
  func f3saPenaltyBias() {
    // λ_k = 1 + k; measured ‖∇F‖ 2.2e-3 at k = 1000 and 5.7e-4 at k = 4000 with these steps.
    let task = Self.task
    let result = solve(
      task.problem, x0: Self.x0, y0: Self.y0,
      algorithm: F3SA(
        innerStep: .constant(1), outerRatio: 0.1, momentum: .constant(1), multiplierIncrement: .constant(1),
        settings: Self.deterministic),
      stopping: StoppingRule(maxIterations: 1000), evaluateEvery: 250, evaluator: task.evaluator())
    let norms = Dictionary(uniqueKeysWithValues: result.trace.records.map { ($0.iteration, $0.hypergradientNorm!) })
    let (early, late) = (norms[250]!, norms[1000]!)
    #expect(late < 3e-3)
    #expect(early / late > 3 && early / late < 5, "‖∇F‖ \(early) at λ = 251, \(late) at λ = 1001")
  }

  @Test("on the quadratic finite sum with batches of 8, ‖∇F‖ falls from 4.6 below the measured level", arguments: cases)
  func quadraticFiniteSum(testCase: AlgorithmCase) {
    let task = Self.task
    expectLevelAtEndOfBudget(
      testCase, problem: task.problem, x0: Self.x0, y0: Self.y0, evaluateEvery: 5, stochastic: true, start: 4.62,
      evaluator: task.evaluator())
  }

  // MARK: Determinism

  static let names = ["mstsa", "alset", "stable", "sbfw", "f3sa", "adapag"]

  /// The algorithm of that name with its defaults and `settings`.
  static func algorithm(named name: String, settings: StochasticSettings) -> any BilevelAlgorithm {
    switch name {
    case "mstsa": return MSTSA(settings: settings)
    case "alset": return ALSET(settings: settings)
    case "stable": return STABLE(settings: settings)
    case "sbfw": return SBFW(constraint: frankWolfeBall, settings: settings)
    case "f3sa": return F3SA(settings: settings)
    default: return AdaPAG(settings: settings)
    }
  }

  @Test("the same seed gives the same trace, another seed another trace", arguments: names)
  func determinism(name: String) {
    let task = Self.task
    expectSeedDeterminism(name: name, problem: task.problem, x0: Self.x0, y0: Self.y0, evaluator: task.evaluator()) {
      seed in
      Self.algorithm(named: name, settings: StochasticSettings(batchSize: 8, seed: seed))
    }
  }

  // MARK: Oracle counts

  /// The calls each of the first `steps` steps of `algorithm` makes on the task.
  func stepCounts(_ algorithm: some BilevelAlgorithm, steps: Int = 1) -> [OracleCounts] {
    BilevelADTests.stepCounts(algorithm, problem: Self.task.problem, x0: Self.x0, y0: Self.y0, steps: steps)
  }

  @Test("MSTSA and SBFW: one ∇_y g, then every hypergradient oracle at both points on shared batches, p < N HVPs each")
  func momentumHypergradientCounts() {
    let algorithms: [any BilevelAlgorithm] = [
      MSTSA(settings: Self.batches), SBFW(constraint: Self.frankWolfeBall, settings: Self.batches),
    ]
    for algorithm in algorithms {
      let steps = stepCounts(algorithm, steps: 40)
      let first = steps[0].hessianVectorProducts
      #expect((0..<10).contains(first))
      #expect(
        steps[0]
          == OracleCounts(
            outerGradientX: 1, outerGradientY: 1, innerGradientY: 1, hessianVectorProducts: first, crossProducts: 1,
            outerSamples: 8, innerSamples: (2 + first) * 8),
        "\(algorithm.name)")
      var depths = [first]
      for step in steps.dropFirst() {
        let p = step.hessianVectorProducts / 2
        depths.append(p)
        #expect(step.hessianVectorProducts == 2 * p && (0..<10).contains(p))
        // The y step's batch, p Neumann batches and one cross-product batch, each call
        // counting its batch's samples.
        #expect(
          step
            == OracleCounts(
              outerGradientX: 2, outerGradientY: 2, innerGradientY: 1, hessianVectorProducts: 2 * p, crossProducts: 2,
              outerSamples: 16, innerSamples: (3 + 2 * p) * 8),
          "\(algorithm.name)")
      }
      #expect(Set(depths).count > 5, "\(algorithm.name) draws varied truncation depths")
    }
  }

  @Test("ALSET: T ∇_y g, p < N HVPs, one cross product and one ∇f per step, each on its own batch")
  func alternatingCounts() {
    for step in stepCounts(ALSET(innerIterations: 3, settings: Self.batches), steps: 10) {
      let p = step.hessianVectorProducts
      #expect((0..<10).contains(p))
      #expect(
        step
          == OracleCounts(
            outerGradientX: 1, outerGradientY: 1, innerGradientY: 3, hessianVectorProducts: p, crossProducts: 1,
            outerSamples: 8, innerSamples: (4 + p) * 8))
    }
  }

  @Test("STABLE: one ∇_y g and one ∇f, plus dim y HVPs and dim y cross products per point on one shared batch")
  func matrixEstimateCounts() {
    let steps = stepCounts(STABLE(settings: Self.batches), steps: 3)
    // Each dense Hessian and each dense cross Jacobian is one batch evaluation (one
    // batched pass) counted as 10 products.
    #expect(
      steps[0]
        == OracleCounts(
          outerGradientX: 1, outerGradientY: 1, innerGradientY: 1, hessianVectorProducts: 10, crossProducts: 10,
          outerSamples: 8, innerSamples: 3 * 8))
    let paired = OracleCounts(
      outerGradientX: 1, outerGradientY: 1, innerGradientY: 1, hessianVectorProducts: 20, crossProducts: 20,
      outerSamples: 8, innerSamples: 5 * 8)
    #expect(steps[1] == paired)
    #expect(steps[2] == paired)
  }

  @Test("F3SA: (∇_x f, ∇_y f) and (∇_x g, ∇_y g) at y and z, at both points after the first step (8 and 4 calls)")
  func firstOrderCounts() {
    let steps = stepCounts(F3SA(settings: Self.batches), steps: 3)
    #expect(
      steps[0]
        == OracleCounts(
          outerGradientX: 1, outerGradientY: 1, innerGradientY: 2, innerGradientX: 2, outerSamples: 8, innerSamples: 16)
    )
    let paired = OracleCounts(
      outerGradientX: 2, outerGradientY: 2, innerGradientY: 4, innerGradientX: 4, outerSamples: 16, innerSamples: 32)
    #expect(steps[1] == paired)
    #expect(steps[2] == paired)
  }

  @Test("AdaPAG: one ∇_y g, a dense Hessian (dim y HVPs), one cross product and one ∇f per step")
  func adaptiveCounts() {
    let expected = OracleCounts(
      outerGradientX: 1, outerGradientY: 1, innerGradientY: 1, hessianVectorProducts: 10, crossProducts: 1,
      outerSamples: 8, innerSamples: 3 * 8)
    #expect(stepCounts(AdaPAG(settings: Self.batches), steps: 2) == [expected, expected])
  }

  // MARK: STABLE

  @Test("STABLE with full batches: on a quadratic the recursive matrices stay the exact Hessian and cross Jacobian")
  func stableFullBatchEstimates() {
    let task = Self.task
    var stable = STABLE(hessianLowerBound: 0.05, settings: StochasticSettings(batchSize: nil))
    let oracles = task.problem.makeOracles()
    stable.start(x: Self.x0, y: Self.y0, oracles: oracles)
    for _ in 0..<3 { _ = stable.step(oracles: oracles) }
    let hessian = oracles.innerHessian(x: stable.x, y: stable.y)
    #expect((stable.hessianEstimate - hessian).norm().scalar < 1e-10 * hessian.norm().scalar)
    let v = Tensor(randomNormal: [10], seed: 4)
    let cross = oracles.crossProduct(x: stable.x, y: stable.y, v: v)
    #expect((matmul(stable.crossJacobianEstimate, v) - cross).norm().scalar < 1e-10 * cross.norm().scalar)
  }

  @Test("STABLE refuses an inner variable above maxInnerDimension")
  func stableRefusesLargeInner() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let task = QuadraticFiniteSum(innerSamples: 8, outerSamples: 8, innerDimension: 10, outerDimension: 2, seed: 1)
      var stable = STABLE(maxInnerDimension: 8)
      stable.start(x: Tensor.zeros([2]), y: Tensor.zeros([10]), oracles: task.problem.makeOracles())
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(message.contains("STABLE") && message.contains("10 entries") && message.contains("maxInnerDimension 8"))
  }

  @Test("STABLE refuses an outer variable above maxOuterDimension")
  func stableRefusesLargeOuter() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let task = QuadraticFiniteSum(innerSamples: 8, outerSamples: 8, innerDimension: 3, outerDimension: 6, seed: 1)
      var stable = STABLE(maxOuterDimension: 5)
      stable.start(x: Tensor.zeros([6]), y: Tensor.zeros([3]), oracles: task.problem.makeOracles())
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(message.contains("STABLE") && message.contains("6 entries") && message.contains("maxOuterDimension 5"))
  }

  // MARK: SBFW

  /// An evaluator with the exact Frank-Wolfe gap and the distance to C.
  static func frankWolfeEvaluator(
    _ constraint: ConstraintSet, hypergradient: @escaping (Tensor) -> Tensor, outerValue: @escaping (Tensor) -> Double
  ) -> (Tensor, Tensor) -> Evaluation {
    let gap = SBFW(constraint: constraint)
    return { x, _ in
      let g = hypergradient(x)
      return Evaluation(
        outerValue: outerValue(x), hypergradientNorm: g.norm().scalar,
        metrics: [
          "frank-wolfe gap": gap.frankWolfeGap(gradient: g, at: x),
          "infeasibility": (x - constraint.project(x)).norm().scalar,
        ])
    }
  }

  @Test(
    "SBFW on a box-constrained quadratic: every iterate feasible, Frank-Wolfe gap below 1e-3 over the last 200 of 1000 steps"
  )
  func frankWolfeConstrainedOptimum() {
    // An identity inner Hessian (condition number 1) with η = 1 and N = 1 makes the
    // Neumann estimate exact, so the run tests the Frank-Wolfe part; the constrained
    // optimum lies on a face of the box (3 of 5 coordinates at a bound), and x₀ = −2·1
    // starts outside it.
    let quadratic = QuadraticBilevel(innerDimension: 10, outerDimension: 5, conditionNumber: 1, seed: 7)
    let box = ConstraintSet.box(lower: -0.2, upper: 0.2)
    let sbfw = SBFW(
      constraint: box, innerStep: .constant(1), outerStep: .decreasing(1, exponent: 1), neumannStep: .constant(1),
      neumannTerms: 1, settings: StochasticSettings(batchSize: nil))
    let result = solve(
      quadratic.problem, x0: Self.x0, y0: Self.y0, algorithm: sbfw, stopping: StoppingRule(maxIterations: 1000),
      evaluateEvery: 1,
      evaluator: Self.frankWolfeEvaluator(
        box, hypergradient: quadratic.hypergradient(at:), outerValue: quadratic.outerValue(at:)))
    #expect(result.trace.records.count == 1001)
    #expect(result.trace.records.allSatisfy { $0.metrics["infeasibility"]! <= 1e-12 })
    let gaps = result.trace.records.map { $0.metrics["frank-wolfe gap"]! }
    #expect(gaps.allSatisfy { $0 >= -1e-12 })
    #expect(gaps.suffix(200).max()! <= 1e-3, "gaps \(gaps.suffix(200).max()!)")
    let atBound = result.x.scalars.filter { abs(abs($0) - 0.2) < 1e-12 }.count
    #expect(atBound == 3)
  }

  @Test(
    "SBFW with batches of 8 keeps every iterate in a box that cuts off the optimum; its gap falls from 10 below 1 (0.39 measured)"
  )
  func frankWolfeStochasticFeasibility() {
    let task = Self.task
    let box = ConstraintSet.box(lower: -1, upper: 1)
    let sbfw = SBFW(
      constraint: box, innerStep: .decreasing(0.3, exponent: 0.25), outerStep: .decreasing(1, exponent: 1),
      momentum: .constant(0.1), neumannStep: .constant(1), neumannTerms: 20, settings: Self.batches)
    let result = solve(
      task.problem, x0: Self.x0, y0: Self.y0, algorithm: sbfw, stopping: StoppingRule(maxIterations: 150),
      evaluateEvery: 1,
      evaluator: Self.frankWolfeEvaluator(box, hypergradient: task.hypergradient(at:), outerValue: task.outerValue(at:))
    )
    #expect(result.trace.records.count == 151)
    #expect(result.trace.records.allSatisfy { $0.metrics["infeasibility"]! <= 1e-12 })
    let gaps = result.trace.records.map { $0.metrics["frank-wolfe gap"]! }
    #expect(gaps.first! > 9 && gaps.last! < 0.1 * gaps.first!, "gap \(gaps.first!) → \(gaps.last!)")
  }

  // MARK: AdaPAG

  @Test("AdaPAG's mirror step solves the ℓ1-regularized, box-constrained problem: prox-gradient mapping below 1e-8")
  func adaptiveProximalStep() {
    let quadratic = QuadraticBilevel(innerDimension: 10, outerDimension: 5, conditionNumber: 10, seed: 7)
    let box = ConstraintSet.box(lower: -0.3, upper: 0.3)
    let weight = 0.5
    // G(x) = x − Proj_C(soft(x − ∇F(x), ρ₁)) vanishes exactly at the stationary points of
    // F + ρ₁‖·‖₁ over C.
    func softThreshold(_ v: Tensor, _ tau: Double) -> Tensor {
      Tensor(shape: v.shape, scalars: v.scalars.map { $0 > tau ? $0 - tau : ($0 < -tau ? $0 + tau : 0) })
    }
    let result = solve(
      quadratic.problem, x0: Self.x0, y0: Self.y0,
      algorithm: AdaPAG(innerStep: .constant(0.15), l1Regularization: weight, constraint: box),
      stopping: StoppingRule(maxIterations: 150), evaluateEvery: 1,
      evaluator: { x, _ in
        let g = quadratic.hypergradient(at: x)
        return Evaluation(
          hypergradientNorm: g.norm().scalar,
          metrics: [
            "mapping": (x - box.project(softThreshold(x - g, weight))).norm().scalar,
            "infeasibility": (x - box.project(x)).norm().scalar,
          ])
      })
    #expect(result.trace.records.allSatisfy { $0.metrics["infeasibility"]! <= 1e-12 })
    #expect(result.trace.records.last!.metrics["mapping"]! < 1e-8)
    // The solution has exact zeros (the ℓ1 term) and coordinates at the box's bound.
    #expect(result.x.scalars.filter { $0 == 0 }.count == 2)
    #expect(result.x.scalars.filter { abs(abs($0) - 0.3) < 1e-12 }.count == 2)
  }
}
