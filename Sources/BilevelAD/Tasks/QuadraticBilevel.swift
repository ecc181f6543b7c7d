import Autodiff

/// The quadratic bilevel problem with a closed-form hypergradient, for correctness checks
/// and benchmarks.
///
/// ```
/// g(x, y) = ½ (y − B x)^T A (y − B x)        A symmetric positive definite
/// f(x, y) = ½ ‖y − c‖² + ½ μ ‖x‖²
/// y*(x) = B x,   F(x) = ½ ‖B x − c‖² + ½ μ ‖x‖²,   ∇F(x) = μ x + B^T (B x − c)
/// ```
/// A = Q diag(λ) Q^T with Q a random orthogonal matrix and λ spread evenly over
/// [1, conditionNumber], so conjugate gradient, Neumann series and unrolling have known
/// rates.
public struct QuadraticBilevel {
  /// The inner Hessian A (n_y × n_y).
  public let innerHessian: Tensor
  /// The coupling B (n_y × n_x).
  public let coupling: Tensor
  /// The target c of the outer objective.
  public let target: Tensor
  /// The outer ridge weight μ.
  public let outerRegularization: Double
  /// The eigenvalues of A, ascending.
  public let eigenvalues: [Double]
  /// The problem built from f and g above.
  public let problem: BilevelProblem

  /// A random instance.
  ///
  /// - Parameters:
  ///   - innerDimension: n_y.
  ///   - outerDimension: n_x (n_y when nil).
  ///   - conditionNumber: λ_max / λ_min of A, with λ_min = 1.
  ///   - outerRegularization: μ.
  ///   - seed: the seed of Q, B and c.
  /// - Precondition: dimensions are positive and conditionNumber ≥ 1.
  public init(
    innerDimension: Int, outerDimension: Int? = nil, conditionNumber: Double = 100,
    outerRegularization: Double = 0.1, seed: UInt64 = 0
  ) {
    let n = innerDimension
    let m = outerDimension ?? innerDimension
    require(n > 0 && m > 0, "QuadraticBilevel: dimensions must be positive, got \(n) and \(m)")
    require(conditionNumber >= 1, "QuadraticBilevel: conditionNumber must be at least 1, got \(conditionNumber)")
    let q = randomOrthogonalMatrix(n, seed: seed)
    let eigenvalues = (0..<n).map { i in n == 1 ? 1 : 1 + (conditionNumber - 1) * Double(i) / Double(n - 1) }
    let scaled = q * Tensor(eigenvalues).reshaped(to: [1, n])
    let a = matmul(scaled, transposed: false, q, transposed: true)
    let sym = 0.5 * (a + a.transposed())
    self.innerHessian = sym
    self.coupling = Tensor(randomNormal: [n, m], seed: seed &+ 1) / Double(m).squareRoot()
    self.target = Tensor(randomNormal: [n], seed: seed &+ 2)
    self.outerRegularization = outerRegularization
    self.eigenvalues = eigenvalues
    let (A, B, c, mu) = (sym, coupling, target, outerRegularization)
    self.problem = BilevelProblem(
      outer: { x, y in 0.5 * (y - c).squared().sum() + 0.5 * mu * x.squared().sum() },
      inner: { x, y in
        let r = y - matmul(B, x)
        return 0.5 * dot(r, matmul(A, r))
      })
  }

  /// y*(x) = B x.
  public func innerSolution(at x: Tensor) -> Tensor { matmul(coupling, x) }

  /// ∇F(x) = μ x + B^T (B x − c).
  public func hypergradient(at x: Tensor) -> Tensor {
    outerRegularization * x + matmul(coupling, transposed: true, matmul(coupling, x) - target)
  }

  /// F(x) = ½ ‖B x − c‖² + ½ μ ‖x‖².
  public func outerValue(at x: Tensor) -> Double {
    (0.5 * (matmul(coupling, x) - target).squared().sum() + 0.5 * outerRegularization * x.squared().sum()).scalar
  }
}

/// A random n × n orthogonal matrix: Gram-Schmidt (twice, for accuracy) on a seeded
/// Gaussian matrix.
func randomOrthogonalMatrix(_ n: Int, seed: UInt64) -> Tensor {
  var columns = [[Double]]()
  let gaussian = Tensor(randomNormal: [n, n], seed: seed).scalars
  for j in 0..<n {
    var v = (0..<n).map { gaussian[$0 * n + j] }
    for _ in 0..<2 {
      for u in columns {
        let projection = zip(u, v).reduce(0) { $0 + $1.0 * $1.1 }
        for i in 0..<n { v[i] -= projection * u[i] }
      }
    }
    let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
    columns.append(v.map { $0 / norm })
  }
  var values = [Double](repeating: 0, count: n * n)
  for j in 0..<n { for i in 0..<n { values[i * n + j] = columns[j][i] } }
  return Tensor(shape: [n, n], scalars: values)
}
