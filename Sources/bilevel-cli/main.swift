import Autodiff
import BilevelAD
import Foundation

let d = 5
let Q = Tensor(randomNormal: [d, d], seed: 1)
let A = matmul(Q, transposed: true, Q) + Tensor.identity(d)
let B = Tensor(randomNormal: [d, d], seed: 2)
let c = Tensor(randomNormal: [d], seed: 3)
let mu = 0.1
let problem = BilevelProblem(
  outer: { x, y in 0.5 * (y - c).squared().sum() + 0.5 * mu * x.squared().sum() },
  inner: { x, y in let r = y - matmul(B, x); return 0.5 * dot(r, matmul(A, r)) })
let x = Tensor(randomNormal: [d], seed: 4)
let exact = mu * x + matmul(B, transposed: true, matmul(B, x) - c)
let sol = problem.solveInner(x: x, y0: Tensor.zeros([d]))
print("inner", sol.iterations, sol.gradientNorm, sol.converged, sol.counts)
for s in [LinearSolver.dense, .conjugateGradient(), .gmres(), .neumann(terms: 200, stepSize: 0.02), .identity(scale: 1)] {
  let h = problem.implicitHypergradient(x: x, y: sol.solution, solver: s)
  print(s.name, (h.gradient - exact).norm().scalar, h.converged, h.iterations, h.counts, h.diagnostics)
}
for m in [UnrollMode.reverse, .forward, .truncated(lastSteps: 50), .checkpointed(every: 7)] {
  let h = problem.unrolledHypergradient(x: x, y0: Tensor.zeros([d]), steps: 300, innerLearningRate: 0.02, mode: m)
  print(m, (h.gradient - exact).norm().scalar, h.converged, h.counts)
}
let fd = problem.finiteDifferenceHypergradient(x: x, y: sol.solution)
print("fd", (fd.gradient - exact).norm().scalar, fd.counts)
let z = problem.zeroOrderHypergradient(x: x, y0: sol.solution, samples: 200, smoothing: 1e-3)
print("zo", (z.gradient - exact).norm().scalar / exact.norm().scalar, z.innerSolves)
let p = problem.penaltyHypergradient(x: x, y0: sol.solution, multiplier: 1e4)
print("penalty", (p.gradient - exact).norm().scalar)
let chk = problem.checkHypergradient(x: x, y0: sol.solution, direction: c, estimate: exact)
print(chk)
