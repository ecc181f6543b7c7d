import Autodiff
import BilevelAD
import Foundation
import Testing

@Suite("Unrolled hypergradient")
struct UnrolledHypergradientTests {
  let task = QuadraticBilevel(innerDimension: 6, conditionNumber: 10, seed: 7)
  var x: Tensor { Tensor(randomNormal: [6], seed: 8) }
  var y0: Tensor { Tensor.zeros([6]) }

  @Test("reverse unrolling converges to the true hypergradient at rate (1 − η λ_min)^K")
  func convergenceRate() {
    let exact = task.hypergradient(at: x)
    let errors = stride(from: 20, through: 100, by: 20).map { steps in
      relativeError(
        task.problem.unrolledHypergradient(x: x, y0: y0, steps: steps, innerLearningRate: 0.1).gradient, exact)
    }
    let expectedRatio = Foundation.pow(0.9, 20.0)
    for (earlier, later) in zip(errors, errors.dropFirst()).dropFirst() {
      #expect(abs(later / earlier - expectedRatio) < 0.05 * expectedRatio, "ratio \(later / earlier)")
    }
    let long = task.problem.unrolledHypergradient(x: x, y0: y0, steps: 400, innerLearningRate: 0.1)
    #expect(relativeError(long.gradient, exact) < 1e-10)
    #expect(long.converged)
  }

  @Test(
    "forward, checkpointed and fully truncated unrolling agree with reverse to 1e-10",
    arguments: [
      UnrollMode.forward, .checkpointed(every: 1), .checkpointed(every: 7), .checkpointed(every: 100),
      .truncated(lastSteps: 30), .truncated(lastSteps: 1000),
    ])
  func modesAgree(mode: UnrollMode) {
    let reverse = task.problem.unrolledHypergradient(x: x, y0: y0, steps: 30, innerLearningRate: 0.1, mode: .reverse)
    let other = task.problem.unrolledHypergradient(x: x, y0: y0, steps: 30, innerLearningRate: 0.1, mode: mode)
    #expect(relativeError(other.gradient, reverse.gradient) < 1e-10)
    #expect(other.innerGradientNorm == reverse.innerGradientNorm)
  }

  @Test("checkpointed unrolling (blocks of √K, the engine's checkpointed) equals plain reverse to 1e-12 at K = 1000")
  func checkpointedLong() {
    let reverse = task.problem.unrolledHypergradient(x: x, y0: y0, steps: 1000, innerLearningRate: 0.05, mode: .reverse)
    let checkpointed = task.problem.unrolledHypergradient(
      x: x, y0: y0, steps: 1000, innerLearningRate: 0.05, mode: .checkpointed(every: 32))
    #expect(relativeError(checkpointed.gradient, reverse.gradient) < 1e-12)
    #expect(checkpointed.innerIterate?.scalars == reverse.innerIterate?.scalars)
  }

  @Test(
    "forward and reverse agree for heavy-ball and Adam inner optimizers",
    arguments: [InnerOptimizer.heavyBall(momentum: 0.5), .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)])
  func optimizers(optimizer: InnerOptimizer) {
    let reverse = task.problem.unrolledHypergradient(
      x: x, y0: y0, steps: 25, innerLearningRate: 0.05, mode: .reverse, optimizer: optimizer)
    let forward = task.problem.unrolledHypergradient(
      x: x, y0: y0, steps: 25, innerLearningRate: 0.05, mode: .forward, optimizer: optimizer)
    let checkpointed = task.problem.unrolledHypergradient(
      x: x, y0: y0, steps: 25, innerLearningRate: 0.05, mode: .checkpointed(every: 4), optimizer: optimizer)
    #expect(relativeError(forward.gradient, reverse.gradient) < 1e-10)
    #expect(relativeError(checkpointed.gradient, reverse.gradient) < 1e-10)
  }

  @Test("heavy-ball unrolling converges to the true hypergradient")
  func heavyBallConverges() {
    let result = task.problem.unrolledHypergradient(
      x: x, y0: y0, steps: 300, innerLearningRate: 0.05, optimizer: .heavyBall(momentum: 0.5))
    #expect(relativeError(result.gradient, task.hypergradient(at: x)) < 1e-8)
    #expect(result.converged)
  }

  @Test("truncation biases the estimate: keeping fewer steps is further from the full unroll")
  func truncationBias() {
    let full = task.problem.unrolledHypergradient(x: x, y0: y0, steps: 100, innerLearningRate: 0.1).gradient
    let errors = [5, 10, 20].map { kept in
      relativeError(
        task.problem.unrolledHypergradient(
          x: x, y0: y0, steps: 100, innerLearningRate: 0.1, mode: .truncated(lastSteps: kept)
        ).gradient, full)
    }
    #expect(errors[0] > errors[1] && errors[1] > errors[2])
  }

  @Test("oracle counts follow the unrolled arithmetic")
  func counts() {
    let reverse = task.problem.unrolledHypergradient(x: x, y0: y0, steps: 10, innerLearningRate: 0.1)
    #expect(reverse.counts.innerGradientY == 11)
    #expect(reverse.counts.hessianVectorProducts == 10)
    #expect(reverse.counts.crossProducts == 10)
    let truncated = task.problem.unrolledHypergradient(
      x: x, y0: y0, steps: 10, innerLearningRate: 0.1, mode: .truncated(lastSteps: 3))
    #expect(truncated.counts.hessianVectorProducts == 3)
    let forward = task.problem.unrolledHypergradient(x: x, y0: y0, steps: 10, innerLearningRate: 0.1, mode: .forward)
    #expect(forward.counts.hessianVectorProducts == 60)
  }

  @Test(
    "forward unrolling under a memory limit pushes the columns in blocks: same gradient, loop re-run per block",
    arguments: [InnerOptimizer.gradientDescent, .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)])
  func forwardBlocks(optimizer: InnerOptimizer) {
    let reverse = task.problem.unrolledHypergradient(
      x: x, y0: y0, steps: 10, innerLearningRate: 0.05, mode: .reverse, optimizer: optimizer)
    let stateBytes = y0.scalarCount * (optimizer == .gradientDescent ? 1 : 3) * 8
    // Room for two columns at a time: ceil(n_x / 2) blocks.
    let blocked = task.problem.unrolledHypergradient(
      x: x, y0: y0, steps: 10, innerLearningRate: 0.05, mode: .forward, optimizer: optimizer,
      forwardMemoryLimit: 2 * stateBytes)
    #expect(relativeError(blocked.gradient, reverse.gradient) < 1e-10)
    let blocks = (x.scalarCount + 1) / 2
    #expect(blocked.counts.innerGradientY == 10 * blocks + 1)
    #expect(blocked.counts.hessianVectorProducts == 10 * x.scalarCount)
    #expect(blocked.counts.outerGradientX == 1 && blocked.counts.outerGradientY == 1)
  }

  @Test("too few inner steps are reported as not converged")
  func notConverged() {
    let result = task.problem.unrolledHypergradient(x: x, y0: y0, steps: 3, innerLearningRate: 0.1)
    #expect(!result.converged)
    #expect(result.diagnostics.contains("after 3 inner steps"))
  }
}
