import Autodiff

extension LinearSolver {
  /// Restarted GMRES(m): minimizes ‖b − A v‖ over a Krylov space built by Arnoldi
  /// (modified Gram-Schmidt) with Givens rotations; restarts every m products.
  ///
  /// Needs neither symmetry nor definiteness, so it solves the implicit-function system
  /// when the inner Hessian is indefinite (a saddle point) or when products are
  /// inexact and slightly nonsymmetric.
  ///
  /// References: Y. Saad and M. H. Schultz, "GMRES: a generalized minimal residual
  /// algorithm for solving nonsymmetric linear systems", SIAM J. Sci. Stat. Comput. 1986.
  /// - Complexity: one product per iteration, plus one per restart; O(m² n) arithmetic.
  func solveByGMRES(
    _ linearMap: LinearOperator, rightHandSide b: Tensor, initialGuess: Tensor?, maxIterations: Int,
    restart: Int, tolerance: Double
  ) -> LinearSolveResult {
    let bNorm = euclideanNorm(b)
    let target = tolerance * bNorm
    var v = initialGuess ?? Tensor.zeros(b.shape)
    var r = initialGuess == nil ? b : b - linearMap.apply(v)
    var residual = euclideanNorm(r)
    var iterations = 0
    var breakdown = false
    while residual > target && iterations < maxIterations && residual.isFinite {
      let m = min(restart, maxIterations - iterations)
      var basis = [r / residual]
      var h = [[Double]](repeating: [Double](repeating: 0, count: m), count: m + 1)  // h[i][j]
      var cs = [Double](repeating: 0, count: m)
      var sn = [Double](repeating: 0, count: m)
      var g = [Double](repeating: 0, count: m + 1)
      g[0] = residual
      var columns = 0
      for j in 0..<m {
        var w = linearMap.apply(basis[j])
        iterations += 1
        for i in 0...j {
          h[i][j] = innerProduct(w, basis[i])
          w = w - h[i][j] * basis[i]
        }
        h[j + 1][j] = euclideanNorm(w)
        // Apply the previous rotations to the new column, then make a new one.
        for i in 0..<j {
          let t = cs[i] * h[i][j] + sn[i] * h[i + 1][j]
          h[i + 1][j] = -sn[i] * h[i][j] + cs[i] * h[i + 1][j]
          h[i][j] = t
        }
        let denominator = (h[j][j] * h[j][j] + h[j + 1][j] * h[j + 1][j]).squareRoot()
        columns = j + 1
        if denominator == 0 || !denominator.isFinite {
          breakdown = !denominator.isFinite
          columns = j
          break
        }
        cs[j] = h[j][j] / denominator
        sn[j] = h[j + 1][j] / denominator
        let nextSubdiagonal = h[j + 1][j]
        h[j][j] = denominator
        h[j + 1][j] = 0
        g[j + 1] = -sn[j] * g[j]
        g[j] = cs[j] * g[j]
        if abs(g[j + 1]) <= target || nextSubdiagonal == 0 { break }
        basis.append(w / nextSubdiagonal)
      }
      // Back substitution for the least-squares coefficients.
      var coefficients = [Double](repeating: 0, count: columns)
      for i in stride(from: columns - 1, through: 0, by: -1) {
        var s = g[i]
        for k in (i + 1)..<columns { s -= h[i][k] * coefficients[k] }
        coefficients[i] = s / h[i][i]
      }
      for i in 0..<columns { v = v + coefficients[i] * basis[i] }
      r = b - linearMap.apply(v)
      residual = euclideanNorm(r)
      if breakdown || columns == 0 { break }
    }
    let converged = residual <= target && residual.isFinite
    var diagnostics: [String] = []
    if !converged {
      diagnostics.append(
        residual.isFinite
          ? "GMRES stopped after \(iterations) iterations with relative residual \(bNorm > 0 ? residual / bNorm : residual) above the tolerance \(tolerance)"
          : "GMRES met a non-finite value in a Hessian-vector product")
    }
    return LinearSolveResult(
      solution: v, iterations: iterations, residualNorm: residual, converged: converged, diagnostics: diagnostics)
  }
}
