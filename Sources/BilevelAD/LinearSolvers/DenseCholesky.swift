import Autodiff

extension LinearSolver {
  /// Materializes A and solves by Cholesky, A = L L^T.
  ///
  /// When A is not positive definite (Cholesky meets a pivot ≤ 0) the result is flagged
  /// `indefinite` with the pivot in the diagnostics, and the system is solved by LU with
  /// partial pivoting so that a nonsingular indefinite system still gets its exact
  /// solution. A singular A gives a non-converged result.
  /// - Complexity: n products to materialize A, O(n³) arithmetic.
  func solveDense(_ linearMap: LinearOperator, rightHandSide b: Tensor) -> LinearSolveResult {
    let n = linearMap.dimension
    let matrix = linearMap.materialize()
    let a = matrix.scalars
    var diagnostics: [String] = []
    var indefinite = false
    var solution: [Double]?
    if !a.allSatisfy(\.isFinite) {
      diagnostics.append("the inner Hessian has non-finite entries")
    } else {
      // Symmetrize: rounding in the products can make A slightly nonsymmetric.
      var symmetric = a
      for i in 0..<n {
        for j in 0..<i {
          let mean = 0.5 * (a[i * n + j] + a[j * n + i])
          symmetric[i * n + j] = mean
          symmetric[j * n + i] = mean
        }
      }
      switch DenseFactorizations.cholesky(symmetric, n: n) {
      case .success(let l):
        solution = DenseFactorizations.choleskySolve(l, n: n, b.scalars)
      case .failure(let failure):
        indefinite = true
        diagnostics.append(
          "the inner Hessian is not positive definite (Cholesky pivot \(failure.pivot) is \(failure.value)); solved by LU instead"
        )
        solution = DenseFactorizations.luSolve(a, n: n, b.scalars)
        if solution == nil {
          diagnostics.append("the inner Hessian is singular: the implicit function theorem does not apply")
        }
      }
    }
    let v = Tensor(shape: b.shape, scalars: solution ?? [Double](repeating: .nan, count: n))
    let residual =
      solution.map { _ in euclideanNorm(matmul(matrix, v.reshaped(to: [n])).reshaped(to: b.shape) - b) } ?? .nan
    let converged = solution != nil && !indefinite && residual.isFinite
    return LinearSolveResult(
      solution: v, iterations: n, residualNorm: residual, converged: converged, indefinite: indefinite,
      diagnostics: diagnostics)
  }
}
