import Autodiff
import BilevelAD
import Foundation
import Testing

/// Matrix sensing as `seeds/001_71a07ee1a5f6e715.txt` builds it ("Experimental Results",
/// 2) Hyper-Representation Learning).
@Suite("Matrix sensing of seed 001")
struct MatrixSensingTests {
  @Test("The data follow the seed: n = 20d noiseless measurements, a 40/60 split, U* with N(0, 1/d) entries")
  func construction() {
    let task = MatrixSensing(dimension: 40, rank: 3, seed: 2)
    #expect(task.sampleCount == 800 && task.trainCount == 320)
    #expect(task.outerShape == [40, 2] && task.innerShape == [40])
    // 120 entries of variance 1/40: the sample variance is within 30 % of 0.025.
    let variance = task.truth.squared().mean().scalar
    #expect(abs(variance - 0.025) < 0.3 * 0.025, "variance \(variance)")
    // x = the first r − 1 columns of U*, y = the last: both losses vanish, no noise.
    let x = task.truth.slicing(0..<2, alongAxis: 1)
    let y = task.truth.slicing(2..<3, alongAxis: 1).reshaped(to: [40])
    #expect(task.problem.outer(x, y).scalar < 1e-28)
    #expect(task.problem.inner(x, y).scalar < 1e-28)
    #expect(task.recoveryError(x: x, y: y) < 1e-15)
    #expect(task.recoveryError(x: x, y: -y) < 1e-15, "U Uᵀ does not see the sign of a column")
  }

  @Test("The implicit hypergradient at y*(x) agrees with finite differences of F")
  func hypergradient() {
    let task = MatrixSensing(seed: 1)
    let x = Tensor(randomNormal: task.outerShape, seed: 3) * 0.5
    let y0 = Tensor(randomNormal: task.innerShape, seed: 4) * 0.5
    let inner = task.problem.solveInner(x: x, y0: y0, tolerance: 1e-12, maxIterations: 200)
    #expect(inner.converged)
    let estimate = task.problem.implicitHypergradient(x: x, y: inner.solution, solver: .dense)
    #expect(estimate.converged)
    for seed in UInt64(5)..<UInt64(8) {
      let check = task.problem.checkHypergradient(
        x: x, y0: inner.solution, direction: Tensor(randomNormal: task.outerShape, seed: seed),
        estimate: estimate.gradient)
      #expect(check.relativeDiscrepancy < 1e-6, "\(check)")
    }
  }

  /// Measured at the end of 400 iterations (every 100 evaluated): AID-BIO 1.4e-13,
  /// HJFBiO 5.4e-13, F2BA 2.0e-13, BOME 4.5e-12.
  @Test(
    "The catalog's task: the recovery error ‖UUᵀ − H*‖ / ‖H*‖ falls from 2.2 below 1e-9 in 400 iterations",
    arguments: ["aid-bio", "hjfbio", "f2ba", "bome"])
  func recovery(algorithm: String) throws {
    let task = try TaskCatalog.instance(of: "matrix-sensing")
    let result = try task.run(algorithm, stopping: StoppingRule(maxIterations: 400), evaluateEvery: 100)
    let errors = result.trace.records.compactMap { $0.metrics["recovery error"] }
    #expect(errors.first! > 2)
    #expect(errors.last! < 1e-9, "\(algorithm): \(errors)")
    #expect(result.trace.records.last!.iteration == 400)
  }
}
