import Autodiff
import BilevelAD
import Foundation

let task = QuadraticBilevel(innerDimension: 10, conditionNumber: 10, seed: 7)
let x0 = Tensor(randomNormal: [10], seed: 8)
let eval: (Tensor, Tensor) -> Evaluation = { x, _ in Evaluation(outerValue: task.outerValue(at: x), hypergradientNorm: task.hypergradient(at: x).norm().scalar) }
for alg in [AIDBIO(outerStepSize: 0.5, innerStepSize: 0.1) as any BilevelAlgorithm, ITDBIO(outerStepSize: 0.5, innerStepSize: 0.1, innerSteps: 30), KRMD(outerStepSize: 0.5, innerStepSize: 0.1, innerSteps: 30, truncatedSteps: 10)] {
  let r = solve(task.problem, x0: x0, y0: Tensor.zeros([10]), solver: alg, stopping: StoppingRule(maxIterations: 300, hypergradientTolerance: 1e-8), evaluator: eval)
  let last = r.trace.records.last!
  print(alg.name, r.stopReason, last.iteration, last.hypergradientNorm!, last.counts.total, last.time)
}
