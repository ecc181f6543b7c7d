// Small dense linear algebra on row-major [Double] matrices: Cholesky, LU with partial
// pivoting. For inner problems with a few hundred unknowns at most.

enum DenseFactorizations {
  /// The lower-triangular L with A = L L^T, or the index of the first pivot that is not
  /// positive (A is not positive definite) with that pivot's value.
  ///
  /// - Complexity: O(n³ / 3).
  static func cholesky(_ a: [Double], n: Int) -> Result<[Double], CholeskyFailure> {
    var l = [Double](repeating: 0, count: n * n)
    for j in 0..<n {
      var diagonal = a[j * n + j]
      for k in 0..<j { diagonal -= l[j * n + k] * l[j * n + k] }
      if !(diagonal > 0) { return .failure(CholeskyFailure(pivot: j, value: diagonal)) }
      let root = diagonal.squareRoot()
      l[j * n + j] = root
      for i in (j + 1)..<max(n, j + 1) {
        var s = a[i * n + j]
        for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
        l[i * n + j] = s / root
      }
    }
    return .success(l)
  }

  struct CholeskyFailure: Error {
    let pivot: Int
    let value: Double
  }

  /// Solves L L^T x = b for a Cholesky factor L.
  static func choleskySolve(_ l: [Double], n: Int, _ b: [Double]) -> [Double] {
    var y = b
    for i in 0..<n {
      var s = y[i]
      for k in 0..<i { s -= l[i * n + k] * y[k] }
      y[i] = s / l[i * n + i]
    }
    var x = y
    for i in stride(from: n - 1, through: 0, by: -1) {
      var s = x[i]
      for k in (i + 1)..<n { s -= l[k * n + i] * x[k] }
      x[i] = s / l[i * n + i]
    }
    return x
  }

  /// Solves A x = b by LU with partial pivoting; nil when A is singular to working
  /// precision.
  static func luSolve(_ a: [Double], n: Int, _ b: [Double]) -> [Double]? {
    var m = a
    var x = b
    for column in 0..<n {
      var pivot = column
      for row in (column + 1)..<max(n, column + 1) where abs(m[row * n + column]) > abs(m[pivot * n + column]) {
        pivot = row
      }
      let scale = m.lazy.map(abs).max() ?? 0
      if abs(m[pivot * n + column]) <= 1e-14 * scale || scale == 0 { return nil }
      if pivot != column {
        for k in 0..<n { m.swapAt(pivot * n + k, column * n + k) }
        x.swapAt(pivot, column)
      }
      let diagonal = m[column * n + column]
      for row in (column + 1)..<max(n, column + 1) {
        let factor = m[row * n + column] / diagonal
        if factor == 0 { continue }
        for k in column..<n { m[row * n + k] -= factor * m[column * n + k] }
        x[row] -= factor * x[column]
      }
    }
    for i in stride(from: n - 1, through: 0, by: -1) {
      var s = x[i]
      for k in (i + 1)..<n { s -= m[i * n + k] * x[k] }
      x[i] = s / m[i * n + i]
    }
    return x
  }
}

extension DenseFactorizations {
  /// The eigen-decomposition A = Q diag(λ) Qᵀ of a symmetric matrix by the cyclic Jacobi
  /// method: rotations zero the off-diagonal entries sweep after sweep until their norm is
  /// below 1e-14 ‖A‖_F (at most 100 sweeps).
  ///
  /// References: G. Golub and C. Van Loan, "Matrix Computations", 4th ed., §8.5.
  /// - Returns: the eigenvalues (ascending) and the eigenvectors as the columns of a
  ///   row-major n × n matrix.
  /// - Complexity: O(n³) per sweep; a handful of sweeps for well-separated spectra.
  static func symmetricEigen(_ matrix: [Double], n: Int) -> (values: [Double], vectors: [Double]) {
    var a = matrix
    for i in 0..<n {
      for j in 0..<i {
        let mean = 0.5 * (a[i * n + j] + a[j * n + i])
        a[i * n + j] = mean
        a[j * n + i] = mean
      }
    }
    var q = [Double](repeating: 0, count: n * n)
    for i in 0..<n { q[i * n + i] = 1 }
    let scale = a.reduce(0) { $0 + $1 * $1 }.squareRoot()
    for _ in 0..<100 {
      var off = 0.0
      for i in 0..<n { for j in 0..<n where i != j { off += a[i * n + j] * a[i * n + j] } }
      if off.squareRoot() <= 1e-14 * max(scale, 1e-300) { break }
      for p in 0..<n {
        for r in (p + 1)..<max(n, p + 1) {
          let apr = a[p * n + r]
          if apr == 0 { continue }
          let theta = (a[r * n + r] - a[p * n + p]) / (2 * apr)
          let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
          let c = 1 / (t * t + 1).squareRoot()
          let s = t * c
          for k in 0..<n {
            let akp = a[k * n + p]
            let akr = a[k * n + r]
            a[k * n + p] = c * akp - s * akr
            a[k * n + r] = s * akp + c * akr
          }
          for k in 0..<n {
            let apk = a[p * n + k]
            let ark = a[r * n + k]
            a[p * n + k] = c * apk - s * ark
            a[r * n + k] = s * apk + c * ark
          }
          for k in 0..<n {
            let qkp = q[k * n + p]
            let qkr = q[k * n + r]
            q[k * n + p] = c * qkp - s * qkr
            q[k * n + r] = s * qkp + c * qkr
          }
        }
      }
    }
    let order = (0..<n).sorted { a[$0 * n + $0] < a[$1 * n + $1] }
    let values = order.map { a[$0 * n + $0] }
    var vectors = [Double](repeating: 0, count: n * n)
    for (column, source) in order.enumerated() { for k in 0..<n { vectors[k * n + column] = q[k * n + source] } }
    return (values, vectors)
  }
}
