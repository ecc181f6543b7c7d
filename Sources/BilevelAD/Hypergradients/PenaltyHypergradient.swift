import Autodiff

extension BilevelProblem {
  /// The value-function (penalty) direction of F2SA, built from gradients only.
  ///
  /// ```
  /// y_λ = argmin_y f(x, y) + λ g(x, y),   y* = argmin_y g(x, y)
  /// d_λ(x) = ∇_x f(x, y_λ) + λ (∇_x g(x, y_λ) − ∇_x g(x, y*))
  /// ```
  /// d_λ is the gradient of the penalty reformulation min_x min_y f + λ (g − g*(x)) and
  /// differs from ∇F(x) by O(1/λ) for strongly convex g (Kwon et al., Lemma 3.1).
  ///
  /// - Parameters:
  ///   - x: the outer variable.
  ///   - y0: the starting point of both inner solves.
  ///   - multiplier: λ > 0.
  ///   - innerTolerance: the gradient-norm tolerance of both inner solves.
  /// - Returns: the direction; `innerSolves` is 2 and `converged` says whether both
  ///   solves converged. `innerGradientNorm` is ‖∇_y g(x, y*)‖.
  ///
  /// References: J. Kwon, D. Kwon, S. Wright and R. Nowak, "A fully first-order method
  /// for stochastic bilevel optimization", ICML 2023.
  public func penaltyHypergradient(
    x: Tensor, y0: Tensor, multiplier: Double, innerTolerance: Double = 1e-10
  ) -> HypergradientResult<Tensor, Tensor> {
    require(
      multiplier > 0 && multiplier.isFinite, "penaltyHypergradient: multiplier must be positive, got \(multiplier)")
    let outer = self.outer
    let inner = self.inner
    let penalized = BilevelProblem(outer: outer, inner: { x, y in outer(x, y) + multiplier * inner(x, y) })
    let yLambda = penalized.solveInner(x: x, y0: y0, tolerance: innerTolerance)
    let yStar = solveInner(x: x, y0: y0, tolerance: innerTolerance)
    var counts = yStar.counts
    // Each evaluation of f + λ g is one of f and one of g.
    counts.outerValues += yLambda.counts.innerValues
    counts.innerValues += yLambda.counts.innerValues
    counts.outerGradientY += yLambda.counts.innerGradientY
    counts.innerGradientY += yLambda.counts.innerGradientY
    counts.hessianVectorProducts += yLambda.counts.hessianVectorProducts
    let oracles = makeOracles()
    let direction =
      oracles.outerGradientX(x: x, y: yLambda.solution)
      + multiplier
      * (oracles.innerGradientX(x: x, y: yLambda.solution) - oracles.innerGradientX(x: x, y: yStar.solution))
    counts += oracles.counts
    var diagnostics: [String] = []
    if !yLambda.converged { diagnostics.append("the penalized inner solve did not converge: \(yLambda.diagnostics)") }
    if !yStar.converged { diagnostics.append("the inner solve did not converge: \(yStar.diagnostics)") }
    return HypergradientResult(
      gradient: direction, converged: yLambda.converged && yStar.converged, residualNorm: yLambda.gradientNorm,
      iterations: yLambda.iterations + yStar.iterations, innerGradientNorm: yStar.gradientNorm, counts: counts,
      diagnostics: diagnostics.joined(separator: "; "), innerSolves: 2)
  }
}
