import Autodiff
import BilevelAD
import Testing

@Suite("First-order and zero-order estimators")
struct FirstOrderEstimatorTests {
  let task = QuadraticBilevel(innerDimension: 5, conditionNumber: 20, seed: 13)
  var x: Tensor { Tensor(randomNormal: [5], seed: 14) }

  @Test("finite-difference products give the hypergradient to 1e-6 with gradient oracles only")
  func finiteDifferenceProducts() {
    let result = task.problem.finiteDifferenceHypergradient(x: x, y: task.innerSolution(at: x))
    #expect(relativeError(result.gradient, task.hypergradient(at: x)) < 1e-6)
    #expect(result.counts.hessianVectorProducts == 0)
    #expect(result.counts.crossProducts == 0)
    #expect(result.counts.innerGradientX == 2)
  }

  @Test("the finite-difference HVP oracle matches the exact HVP on a nonquadratic g")
  func finiteDifferenceOracle() {
    let task = PerFeatureRidgeLogistic()
    let oracles = task.problem.makeOracles()
    let x = Tensor(randomNormal: [task.features], seed: 1) * 0.3
    let y = Tensor(randomNormal: [task.features], seed: 2)
    let v = Tensor(randomNormal: [task.features], seed: 3)
    let exact = oracles.hessianVectorProduct(x: x, y: y, v: v)
    let estimate = oracles.finiteDifferenceHessianVectorProduct(x: x, y: y, v: v, step: 1e-4)
    #expect(relativeError(estimate, exact) < 1e-7)
    let exactCross = oracles.crossProduct(x: x, y: y, v: v)
    let estimateCross = oracles.finiteDifferenceCrossProduct(x: x, y: y, v: v, step: 1e-4)
    #expect(relativeError(estimateCross, exactCross) < 1e-7)
    #expect(oracles.counts.innerGradientY == 2 && oracles.counts.innerGradientX == 2)
  }

  @Test("the recorded Hessian applies the same products as hvp, counted once per product")
  func recordedHessian() {
    let task = PerFeatureRidgeLogistic()
    let oracles = task.problem.makeOracles()
    let x = Tensor(randomNormal: [task.features], seed: 1) * 0.3
    let y = Tensor(randomNormal: [task.features], seed: 2)
    let (gradient, apply) = oracles.recordedHessian(x: x, y: y)
    #expect(relativeError(gradient, oracles.innerGradientY(x: x, y: y)) < 1e-14)
    for seed in UInt64(3)..<UInt64(6) {
      let v = Tensor(randomNormal: [task.features], seed: seed)
      #expect(relativeError(apply(v), oracles.hessianVectorProduct(x: x, y: y, v: v)) < 1e-12)
    }
    #expect(oracles.counts.hessianVectorProducts == 6)
    #expect(oracles.counts.innerGradientY == 2)
  }

  @Test("the cross product agrees across HVP modes", arguments: HVPMode.allCases)
  func crossProductModes(mode: HVPMode) {
    let task = PerFeatureRidgeLogistic()
    let oracles = task.problem.makeOracles()
    let x = Tensor(randomNormal: [task.features], seed: 1) * 0.3
    let y = Tensor(randomNormal: [task.features], seed: 2)
    let v = Tensor(randomNormal: [task.features], seed: 3)
    // ∇²_xy g v for g = ... + ½ Σ exp(λ_j) θ_j²  is exp(λ) ⊙ θ ⊙ v.
    let expected = exp(x) * y * v
    #expect(relativeError(oracles.crossProduct(x: x, y: y, v: v, mode: mode), expected) < 1e-12)
  }

  @Test("the dense cross Jacobian is −Bᵀ A on the quadratic and its columns are the cross products")
  func denseCrossJacobian() {
    // g = ½ (y − B x)ᵀ A (y − B x): ∇_y g = A (y − B x), so ∂²g/∂x_i∂y_j = −(Bᵀ A)_ij.
    let task = QuadraticBilevel(innerDimension: 7, outerDimension: 4, conditionNumber: 10, seed: 3)
    let oracles = task.problem.makeOracles()
    let x = Tensor(randomNormal: [4], seed: 1)
    let y = Tensor(randomNormal: [7], seed: 2)
    let dense = oracles.innerCrossJacobian(x: x, y: y)
    #expect(dense.shape == [4, 7])
    let closedForm = -1.0 * matmul(task.coupling, transposed: true, task.innerHessian)
    #expect(relativeError(dense, closedForm) < 1e-12)
    #expect(oracles.counts.crossProducts == 7)
    let logistic = PerFeatureRidgeLogistic()
    let other = logistic.problem.makeOracles()
    let u = Tensor(randomNormal: [logistic.features], seed: 4) * 0.3
    let w = Tensor(randomNormal: [logistic.features], seed: 5)
    let matrix = other.innerCrossJacobian(x: u, y: w)
    for j in [0, logistic.features - 1] {
      var basis = [Double](repeating: 0, count: logistic.features)
      basis[j] = 1
      let column = other.crossProduct(x: u, y: w, v: Tensor(basis))
      let fromMatrix = matrix.slicing(j..<(j + 1), alongAxis: 1).reshaped(to: [logistic.features])
      #expect(relativeError(fromMatrix, column) < 1e-12)
    }
  }

  @Test("zero-order estimates approach the hypergradient; antithetic beats naive; seeds reproduce")
  func zeroOrder() {
    let y0 = task.innerSolution(at: x)
    let exact = task.hypergradient(at: x)
    let antithetic = task.problem.zeroOrderHypergradient(
      x: x, y0: y0, samples: 400, smoothing: 1e-3, estimator: .antithetic, seed: 1)
    let naive = task.problem.zeroOrderHypergradient(
      x: x, y0: y0, samples: 400, smoothing: 1e-3, estimator: .naive, seed: 1)
    let forward = task.problem.zeroOrderHypergradient(
      x: x, y0: y0, samples: 400, smoothing: 1e-3, estimator: .forwardDifference, seed: 1)
    #expect(relativeError(antithetic.gradient, exact) < 0.2)
    #expect(relativeError(forward.gradient, exact) < 0.2)
    #expect(relativeError(naive.gradient, exact) > relativeError(antithetic.gradient, exact))
    #expect(antithetic.innerSolves == 800 && forward.innerSolves == 401 && naive.innerSolves == 400)
    let again = task.problem.zeroOrderHypergradient(
      x: x, y0: y0, samples: 400, smoothing: 1e-3, estimator: .antithetic, seed: 1)
    #expect(again.gradient.scalars == antithetic.gradient.scalars)
  }

  @Test("the F2SA penalty direction approaches the hypergradient like 1/λ")
  func penalty() {
    let y0 = task.innerSolution(at: x)
    let exact = task.hypergradient(at: x)
    let errors = [1e2, 1e3, 1e4].map { lambda in
      relativeError(task.problem.penaltyHypergradient(x: x, y0: y0, multiplier: lambda).gradient, exact)
    }
    #expect(errors[2] < 1e-3)
    #expect(errors[0] / errors[1] > 7 && errors[0] / errors[1] < 13)
    #expect(errors[1] / errors[2] > 7 && errors[1] / errors[2] < 13)
  }
}
