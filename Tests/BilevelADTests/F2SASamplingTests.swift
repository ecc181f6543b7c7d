import Autodiff
import BilevelAD
import Testing

/// Why the box's F2SA diverges on the benchmark's finite-sum quadratic, on a smaller
/// instance: the λ_k-scaled difference h_gxy − h_gxz of two independent inner mini-batches
/// carries λ_k times the spread of ∇_x q_i, which in x is multiplicative (u_i u_iᵀ x), so
/// the iteration becomes unstable in mean square as λ_k grows; one batch for both
/// (`sharedXBatch`, a documented deviation) cancels that term, and the same run
/// converges towards the solution while λ_k stays moderate.
@Suite("F2SA's sampling of the x direction")
struct F2SASamplingTests {
  static var task: QuadraticFiniteSum {
    QuadraticFiniteSum(
      innerSamples: 256, outerSamples: 256, innerDimension: 20, outerDimension: 20, seed: 5)
  }

  /// F(x) after `iterations` iterations of the catalog's finite-sum F2SA (y step on
  /// f/λ + g, constant steps, x step 0.02) with λ growing by 0.1 per iteration, batch 8.
  static func finalOuterValue(_ task: QuadraticFiniteSum, sharedXBatch: Bool, iterations: Int) -> Double {
    var algorithm = F2SA(
      penalizedStep: .constant(0.2), innerStep: .constant(0.2), stepRatio: 0.1, multiplierIncrement: .constant(0.1),
      innerIterations: 5, scaledPenalty: true, sharedXBatch: sharedXBatch,
      settings: StochasticSettings(batchSize: 8, seed: 3))
    let oracles = task.problem.makeOracles()
    algorithm.start(x: Tensor(shape: [20], repeating: -2), y: Tensor.zeros([20]), oracles: oracles)
    for _ in 0..<iterations { _ = algorithm.step(oracles: oracles) }
    return task.outerValue(at: algorithm.x)
  }

  @Test("independent batches for h_gxy and h_gxz diverge as λ grows; one shared batch does not")
  func sharedBatchCancelsTheMultiplicativeNoise() {
    let task = Self.task
    let start = task.outerValue(at: Tensor(shape: [20], repeating: -2))
    let independent = Self.finalOuterValue(task, sharedXBatch: false, iterations: 300)
    let shared = Self.finalOuterValue(task, sharedXBatch: true, iterations: 300)
    // Measured (λ reaches 31): F(x₀) = 23.8, independent batches 4.6e11, one shared batch
    // 1.06. The shared batch delays the growth but does not remove it at constant steps:
    // at 1000 iterations (λ = 101) the same run measured F = 93; the x step has to shrink
    // like 1/λ_k for that (the box's α_k ∝ 1/λ_k).
    #expect(!independent.isFinite || independent > 1e6 * start, "independent batches: F = \(independent)")
    #expect(shared.isFinite && shared < start / 10, "shared batch: F = \(shared), start \(start)")
  }
}
