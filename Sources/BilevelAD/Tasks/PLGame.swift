import Autodiff

/// A bilevel Polyak-Łojasiewicz game: an inner problem that is PL but not strongly
/// convex (a rank-deficient Hessian), after the experiment of Huang (ICML 2024, HJFBiO;
/// also MGBiO).
///
/// ```
/// Q = Σ_{j<l} s_j q_j q_jᵀ,  P = Σ_{j<l} t_j p_j p_jᵀ   (orthonormalized Gaussian q_j, p_j;
///                                                      s_j, t_j uniform in [μ, L]; rank l < d)
/// g(x, y) = ½ (y − M x)ᵀ Q (y − M x)                   PL in y, minimizers M x + null(Q)
/// f(x, y) = ½ xᵀ P x + ½ ‖R x − y‖²
/// ```
/// Gradient descent on y from y₀ keeps y₀'s component in null(Q), so with y₀ = 0 the inner
/// solution is y*(x) = Π M x (Π the projector onto range(Q)), and
/// ```
/// F(x) = ½ xᵀ P x + ½ ‖(R − Π M) x‖²,   ∇F(x) = P x + (R − Π M)ᵀ (R − Π M) x,
/// ```
/// which equals the implicit-function formula with the pseudo-inverse of Q. The paper's
/// exact matrices could not be consulted; this construction has the stated structure
/// (rank-deficient P and Q from l < d Gaussian samples, spectra uniform in [μ, L]) and a
/// bounded-below F with a closed-form hypergradient.
public struct PLGame {
  /// d, the dimension of x and y.
  public let dimension: Int
  /// l < d, the rank of P and Q.
  public let rank: Int
  /// The problem.
  public let problem: BilevelProblem
  /// The exact ∇F = A x with A = P + (R − Π M)ᵀ (R − Π M).
  public let hypergradientMatrix: Tensor
  /// The inner Hessian Q (rank l).
  public let innerHessian: Tensor

  /// A random instance.
  ///
  /// - Parameters:
  ///   - dimension: d (50 in the paper).
  ///   - rank: l < d (48 in the paper).
  ///   - spectrum: [μ, L] for the nonzero eigenvalues of P and Q.
  ///   - seed: the seed.
  public init(dimension: Int = 50, rank: Int = 48, spectrum: ClosedRange<Double> = 0.1...1, seed: UInt64 = 0) {
    require(rank > 0 && rank < dimension, "PLGame: rank must lie in 1..<\(dimension), got \(rank)")
    self.dimension = dimension
    self.rank = rank
    let d = dimension
    func lowRank(seed: UInt64) -> (matrix: Tensor, basis: Tensor) {
      let basis = randomOrthogonalMatrix(d, seed: seed).slicing(0..<rank, alongAxis: 1)  // d × l
      var generator = SeededRandomNumberGenerator(seed: seed &+ 17)
      let values = Tensor((0..<rank).map { _ in Double.random(in: spectrum, using: &generator) })
      return (matmul(basis * values.reshaped(to: [1, rank]), transposed: false, basis, transposed: true), basis)
    }
    let (q, qBasis) = lowRank(seed: seed)
    let (p, _) = lowRank(seed: seed &+ 1)
    let m = Tensor(randomNormal: [d, d], seed: seed &+ 2) / Double(d).squareRoot()
    let r = Tensor(randomNormal: [d, d], seed: seed &+ 3) / Double(d).squareRoot()
    let projector = matmul(qBasis, transposed: false, qBasis, transposed: true)
    let residual = r - matmul(projector, m)
    hypergradientMatrix = p + matmul(residual, transposed: true, residual)
    innerHessian = q
    problem = BilevelProblem(
      outer: { x, y in 0.5 * dot(x, matmul(p, x)) + 0.5 * (matmul(r, x) - y).squared().sum() },
      inner: { x, y in
        let shifted = y - matmul(m, x)
        return 0.5 * dot(shifted, matmul(q, shifted))
      })
  }

  /// ∇F(x), exact.
  public func hypergradient(at x: Tensor) -> Tensor { matmul(hypergradientMatrix, x) }

  /// An evaluator with the exact ‖∇F(x)‖ and F(x).
  public func evaluator() -> (Tensor, Tensor) -> Evaluation {
    let a = hypergradientMatrix
    return { x, _ in
      let g = matmul(a, x)
      return Evaluation(outerValue: 0.5 * dot(x, g).scalar, hypergradientNorm: g.norm().scalar)
    }
  }
}
