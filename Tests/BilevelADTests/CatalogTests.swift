import Autodiff
import BilevelAD
import Foundation
import Testing

@Suite("Task and algorithm catalogs")
struct CatalogTests {
  @Test("Every cheap task builds with its name, shapes and evaluation")
  func tasksBuild() throws {
    for name in ["quadratic", "quadratic-sum", "pl-game", "matrix-sensing", "coreset", "coreset-simplex"] {
      let task = try TaskCatalog.instance(of: name)
      #expect(task.name == name)
      #expect(task.x0.scalars.allSatisfy { $0.isFinite } && task.y0.scalars.allSatisfy { $0.isFinite })
      let evaluation = task.evaluator(task.x0, task.y0)
      #expect(evaluation.outerValue?.isFinite == true, "\(name)")
    }
  }

  @Test("An unknown task or algorithm name is refused with the known names")
  func unknownNames() {
    #expect(throws: TaskError.self) { try TaskCatalog.instance(of: "quadratik") }
    do {
      _ = try TaskCatalog.instance(of: "quadratik")
    } catch {
      #expect(error.description.contains("'quadratik'") && error.description.contains("pl-game"))
    }
    let task = try! TaskCatalog.instance(of: "quadratic")
    do {
      _ = try AlgorithmCatalog.algorithm("sobaa", for: task)
      Issue.record("expected an Unsupported error")
    } catch {
      #expect(error.description.contains("'sobaa'") && error.description.contains("soba"))
    }
  }

  @Test("An algorithm that cannot run on a task says why")
  func unsupported() throws {
    let task = try TaskCatalog.instance(of: "quadratic")
    do {
      _ = try AlgorithmCatalog.algorithm("sbfw", for: task)
      Issue.record("expected an Unsupported error")
    } catch {
      #expect(error.description.contains("bounded constraint set"))
    }
  }

  @Test("Tuned steps override the task's defaults, batch sizes only on finite sums")
  func tunedSteps() throws {
    let cleaning = try TaskCatalog.hyperCleaning(TaskOptions(evaluateHypergradient: false)).instance
    #expect(cleaning.steps(for: "f2sa") == StepTuning(inner: 0.5, outer: 300, batchSize: 400))
    #expect(cleaning.steps(for: "aid-bio") == StepTuning(inner: 0.5, outer: 1000, batchSize: 64))
    let quadratic = try TaskCatalog.instance(of: "quadratic")
    #expect(quadratic.steps(for: "bome") == StepTuning(inner: 0.05, outer: 0.05, batchSize: nil))
    let options = AlgorithmOptions(task: quadratic, algorithm: "soba", seed: 3)
    #expect(options.innerStep == 0.1 && options.outerStep == 0.3 && options.batchSize == nil && options.seed == 3)
  }

  @Test("TaskInstance.run is the algorithm built by hand from the task's steps, to the last bit")
  func runEqualsHandBuilt() throws {
    let task = try TaskCatalog.instance(of: "quadratic-sum")
    let stopping = StoppingRule(maxIterations: 6)
    let viaCatalog = try task.run("soba", seed: 2, stopping: stopping, evaluateEvery: 2)
    let byHand = SOBA(
      innerStep: .decreasing(0.2, exponent: 0.5), outerRatio: 0.2 / 0.02,
      settings: StochasticSettings(batchSize: 64, seed: 2))
    let direct = solve(
      task.problem, x0: task.x0, y0: task.y0, algorithm: byHand, stopping: stopping, evaluateEvery: 2,
      evaluator: task.evaluator)
    #expect(viaCatalog.trace.algorithm == "soba")
    #expect(viaCatalog.x.scalars == direct.x.scalars)
    #expect(viaCatalog.trace.records.map(\.hypergradientNorm) == direct.trace.records.map(\.hypergradientNorm))
  }

  @Test("Every catalog algorithm runs two iterations on the quadratic or the simplex coreset")
  func everyAlgorithmRuns() throws {
    let quadratic = try TaskCatalog.instance(of: "quadratic")
    let simplex = try TaskCatalog.instance(of: "coreset-simplex")
    for name in AlgorithmCatalog.names {
      let task = name.hasPrefix("sbfw") ? simplex : quadratic
      let result = try task.run(name, stopping: StoppingRule(maxIterations: 2), evaluateEvery: 1)
      #expect(result.trace.records.count == 3, "\(name)")
      #expect(result.x.scalars.allSatisfy { $0.isFinite }, "\(name)")
    }
  }

  @Test("Hypergradient methods: names round-trip and the exact ones match the closed form")
  func hypergradientMethods() throws {
    #expect(HypergradientMethod.allCases.count == 13)
    for method in HypergradientMethod.allCases {
      #expect(HypergradientMethod(rawValue: method.rawValue) == method)
      #expect(!method.summary.isEmpty)
    }
    let task = try TaskCatalog.instance(of: "quadratic")
    let x = task.x0
    let y = task.problem.solveInner(x: x, y0: task.y0, tolerance: 1e-12, maxIterations: 100).solution
    let exact = task.exactHypergradient!(x)
    for method in [HypergradientMethod.implicitCG, .implicitDense, .implicitGMRES] {
      let estimate = method.estimate(task.problem, x: x, y: y, y0: task.y0, steps: 100, innerStep: task.innerStep)
      let error = (estimate.gradient - exact).norm().scalar / exact.norm().scalar
      #expect(error < 1e-8, "\(method.rawValue): \(error)")
    }
    // 400 unrolled steps of a contraction with rate 1 − 0.1 μ: close, not exact.
    let unrolled = HypergradientMethod.unrolledReverse.estimate(
      task.problem, x: x, y: y, y0: task.y0, steps: 400, innerStep: task.innerStep)
    #expect((unrolled.gradient - exact).norm().scalar / exact.norm().scalar < 1e-3)
  }
}

@Suite("Statistics over seeds")
struct SeedStatisticsTests {
  @Test("Quantiles interpolate linearly as NumPy's default does")
  func quantiles() {
    // numpy.quantile([1, 2, 4, 10], [0, 0.2, 0.5, 0.8, 1]) = [1, 1.6, 3, 6.4, 10]
    let values: [Double] = [1, 2, 4, 10]
    let expected: [Double] = [1, 1.6, 3, 6.4, 10]
    for (q, value) in zip([0, 0.2, 0.5, 0.8, 1], expected) {
      #expect(abs(SeedStatistics.quantile(values, q) - value) < 1e-12)
    }
    #expect(SeedStatistics.quantile([], 0.5).isNaN)
    #expect(SeedStatistics.median([nil, 3, 1, nil]) == 2)
    #expect(SeedStatistics.median([nil]) == nil)
  }

  @Test("The band of identical curves is the curve; of shifted curves, their median")
  func band() {
    let curve = (0...10).map { (Double($0), Double($0) * 2) }
    let same = SeedStatistics.band(of: [curve, curve, curve], points: 11)
    #expect(same.median == curve.map(\.1) && same.lower == same.median && same.upper == same.median)
    let shifted = (0..<5).map { k in curve.map { ($0.0, $0.1 + Double(k)) } }
    let band = SeedStatistics.band(of: shifted, points: 11)
    #expect(zip(band.median, curve).allSatisfy { abs($0 - ($1.1 + 2)) < 1e-12 })
    #expect(zip(band.lower, curve).allSatisfy { abs($0 - ($1.1 + 0.8)) < 1e-12 })
    #expect(zip(band.upper, curve).allSatisfy { abs($0 - ($1.1 + 3.2)) < 1e-12 })
  }
}
