import Autodiff

extension LinearSolver {
  /// Conjugate gradient for a symmetric positive definite A, matrix-free.
  ///
  /// ```
  /// r₀ = b − A v₀, p₀ = r₀
  /// α = r^T r / p^T A p,  v ← v + α p,  r ← r − α A p,  p ← r + (r_new^T r_new / r^T r) p
  /// ```
  /// Stops when ‖r‖ ≤ tolerance · ‖b‖ (converged), after `maxIterations` products (not
  /// converged), or when p^T A p ≤ 0: A is not positive definite along p, the solve is
  /// not trustworthy, and the result says so.
  ///
  /// References: M. R. Hestenes and E. Stiefel, "Methods of conjugate gradients for
  /// solving linear systems", J. Res. NBS 1952.
  /// - Complexity: one product per iteration, plus one for a non-zero initial guess.
  func solveByConjugateGradient(
    _ linearMap: LinearOperator, rightHandSide b: Tensor, initialGuess: Tensor?, maxIterations: Int,
    tolerance: Double
  ) -> LinearSolveResult {
    let bNorm = euclideanNorm(b)
    let target = tolerance * bNorm
    var v: Tensor
    var r: Tensor
    if let initialGuess, euclideanNorm(initialGuess) > 0 {
      require(
        initialGuess.shape == b.shape,
        "conjugateGradient: initial guess of shape \(initialGuess.shape) does not match \(b.shape)")
      v = withoutDerivative(at: initialGuess)
      r = withoutDerivative(at: b - linearMap.apply(v))
    } else {
      v = Tensor.zeros(b.shape)
      r = withoutDerivative(at: b)
    }
    var p = r
    var rr = innerProduct(r, r)
    var iterations = 0
    var indefinite = false
    var diagnostics: [String] = []
    while rr.squareRoot() > target && iterations < maxIterations {
      let ap = linearMap.apply(p)
      iterations += 1
      let curvature = innerProduct(p, ap)
      if !(curvature > 0) {
        indefinite = true
        // A NaN product leaves no usable iterate: return NaN, never a zero that would
        // make the hypergradient look like ∇_x f.
        if curvature.isNaN { v = Tensor(shape: b.shape, repeating: .nan) }
        diagnostics.append(
          curvature.isNaN
            ? "conjugate gradient met NaN in a Hessian-vector product at iteration \(iterations)"
            : "conjugate gradient met non-positive curvature pᵀHp = \(curvature) at iteration \(iterations): the inner Hessian is not positive definite"
        )
        break
      }
      let alpha = rr / curvature
      addScaled(&v, alpha, p)
      addScaled(&r, -alpha, ap)
      let rrNext = innerProduct(r, r)
      scaleAndAdd(&p, rrNext / rr, r)
      rr = rrNext
    }
    let residual = rr.squareRoot()
    let converged = !indefinite && residual <= target && residual.isFinite
    if !converged && !indefinite {
      diagnostics.append(
        residual.isFinite
          ? "conjugate gradient stopped after \(iterations) iterations with relative residual \(bNorm > 0 ? residual / bNorm : residual) above the tolerance \(tolerance)"
          : "conjugate gradient diverged (non-finite residual)")
    }
    return LinearSolveResult(
      solution: v, iterations: iterations, residualNorm: residual, converged: converged, indefinite: indefinite,
      diagnostics: diagnostics)
  }
}
