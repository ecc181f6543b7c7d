import Autodiff

extension LinearSolver {
  /// The truncated Neumann series for A⁻¹ b.
  ///
  /// ```
  /// A⁻¹ = α Σ_{k≥0} (I − α A)^k   when ‖I − α A‖ < 1, i.e. 0 < α < 2 / λ_max(A)
  /// v_K = α Σ_{k<K} p_k,   p₀ = b,   p_{k+1} = p_k − α A p_k
  /// ```
  /// The error contracts by max|1 − α λ| per term. After the series, one more product
  /// measures the residual ‖A v − b‖, which decides `converged`.
  ///
  /// References: J. Lorraine, P. Vicol and D. Duvenaud, "Optimizing millions of
  /// hyperparameters by implicit differentiation", AISTATS 2020; K. Ji, J. Yang and
  /// Y. Liang, "Bilevel optimization: convergence analysis and enhanced design", ICML 2021.
  /// - Complexity: K − 1 products for the series, 1 for the residual.
  func solveByNeumannSeries(
    _ linearMap: LinearOperator, rightHandSide b: Tensor, terms: Int, stepSize: Double, tolerance: Double
  ) -> LinearSolveResult {
    var p = b
    var sum = b
    for _ in 1..<max(terms, 1) {
      p = p - stepSize * linearMap.apply(p)
      sum = sum + p
    }
    let v = stepSize * sum
    let residual = euclideanNorm(linearMap.apply(v) - b)
    let bNorm = euclideanNorm(b)
    let converged = residual <= tolerance * bNorm && residual.isFinite
    var diagnostics: [String] = []
    if !residual.isFinite {
      diagnostics.append(
        "Neumann series diverged: the step size \(stepSize) exceeds 2 / λ_max of the inner Hessian, or the Hessian is not positive definite"
      )
    } else if !converged {
      diagnostics.append(
        "Neumann series with \(terms) terms left relative residual \(bNorm > 0 ? residual / bNorm : residual) above the tolerance \(tolerance)"
      )
    }
    return LinearSolveResult(
      solution: v, iterations: terms, residualNorm: residual, converged: converged, diagnostics: diagnostics)
  }

  /// The Hessian-free approximation A ≈ λ I: v = b / λ, with its residual measured by
  /// one product.
  ///
  /// References: the identity approximation of the inverse Hessian in first-order
  /// hypergradient methods, e.g. J. Luketina et al., "Scalable gradient-based tuning of
  /// continuous regularization hyperparameters", ICML 2016.
  func solveByIdentityApproximation(
    _ linearMap: LinearOperator, rightHandSide b: Tensor, scale: Double, tolerance: Double
  ) -> LinearSolveResult {
    let v = b / scale
    let residual = euclideanNorm(linearMap.apply(v) - b)
    let bNorm = euclideanNorm(b)
    let converged = residual <= tolerance * bNorm && residual.isFinite
    var diagnostics: [String] = []
    if !converged {
      diagnostics.append(
        "identity approximation H ≈ \(scale) I leaves relative residual \(bNorm > 0 ? residual / bNorm : residual): the hypergradient is only an approximation"
      )
    }
    return LinearSolveResult(
      solution: v, iterations: 0, residualNorm: residual, converged: converged, diagnostics: diagnostics)
  }
}
