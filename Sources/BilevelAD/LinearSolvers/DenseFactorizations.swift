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
