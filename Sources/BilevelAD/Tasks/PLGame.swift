import Autodiff

/// The bilevel Polyak-Łojasiewicz game of `seeds/001_71a07ee1a5f6e715.txt` ("Experimental
/// Results", 1) Bilevel Polyak-Łojasiewicz Game): quadratic levels whose Hessians are
/// singular, so the lower level is PL but not strongly convex.
///
/// The seed, as written:
/// ```
/// min_x ½ xᵀ P x + xᵀ R¹ y     s.t.  y ∈ argmin_y ½ yᵀ Q y + xᵀ R² y
/// P = (1/n) Σ p_i p_iᵀ,  Q = (1/n) Σ q_i q_iᵀ,  R¹ = (1/n) Σ 0.01 r¹_i r¹_iᵀ,  R² = (1/n) Σ 0.01 r²_i r²_iᵀ
/// p_i ~ N(0, Σ_P), Σ_P = U¹ D¹ U¹ᵀ;  q_i ~ N(0, Σ_Q), Σ_Q = U² D² U²ᵀ
///   (U¹, U² ∈ ℝ^{d×l} column-orthogonal, D¹, D² diagonal uniform in [μ, L], l < d)
/// r¹_i ~ N(0, 0.001 V¹ V¹ᵀ),  r²_i ~ N(0, 0.001 V² V²ᵀ)   (V¹, V² ∈ ℝ^{d×d} with N(0, 1) entries)
/// d = 50, l = 48, n = 2500 (its Figure 1 caption: d = 100 and 200); learning rate 0.01
/// ```
/// All of it is built as written: the samples, the empirical averages, the scales 0.01
/// and 0.001 (together `coupling` = 1e-5), d, l, n. The seed leaves μ and L open; the
/// default is [0.1, 1].
///
/// Two changes make the problem well posed, each the smallest that does:
/// 1. The lower level as written is unbounded below. R² is full rank, so R²ᵀx has a
///    component outside range(Q) (dimension d − l) for almost every x, and along
///    y = −s (I − Π) R²ᵀx (Π the projector onto range(Q) = range(U²)) g decreases like
///    −s ‖(I − Π) R²ᵀx‖². On the default instance (seed 0), ‖(I − Π) R²ᵀx‖ / ‖R²ᵀx‖ is
///    0.24 for a random x, and gradient descent on y grows y's null component by a
///    constant every step (`PLGameTests` measures both). The inner coupling is therefore
///    R̃² = R² Π: g = ½ yᵀQy + xᵀR̃²y keeps the seed's R² on range(Q).
/// 2. The upper level as written is linear in y along the inner solution set
///    y*(x) + null(Q), so the optimistic F(x) = min over that set is −∞ unless R¹ᵀx is
///    orthogonal to null(Q); likewise the outer coupling becomes R̃¹ = R¹ Π, and f sees y
///    only through Π y. Then F is the same for every y in the solution set.
///
/// With these, y*(x) = −Q⁺ R̃²ᵀ x + null(Q) and
/// ```
/// F(x) = ½ xᵀ P x − xᵀ M x − b̃ᵀ Q⁺ R̃²ᵀ x,   M = R̃¹ Q⁺ R̃²ᵀ
/// ∇F(x) = A x − k,   A = P − M − Mᵀ,   k = R̃² Q⁺ b̃
/// ```
/// `linearTerm` adds b̃ᵀy to f (b̃ = Π b, b with N(0, 1) entries times the given scale; 0
/// in the seed). With it the stationary point x* = A⁻¹k is away from the origin, so that
/// an iteration that drops the implicit term (whose fixed point stays at 0) is told
/// apart from a correct one. `outerRank` makes P of another rank than Q (l in the seed).
public struct PLGame {
  /// d, the dimension of x and y.
  public let dimension: Int
  /// l < d, the rank of Q (and of P unless `outerRank` says otherwise).
  public let rank: Int
  /// The problem (with the two couplings projected, see above).
  public let problem: BilevelProblem
  /// P, the outer quadratic term.
  public let outerHessian: Tensor
  /// Q (rank l), the inner Hessian.
  public let innerHessian: Tensor
  /// R̃¹ = R¹ Π, the outer coupling.
  public let outerCoupling: Tensor
  /// R̃² = R² Π, the inner coupling.
  public let innerCoupling: Tensor
  /// R², the seed's inner coupling before the projection.
  public let seedInnerCoupling: Tensor
  /// Π, the projector onto range(Q).
  public let rangeProjector: Tensor
  /// b̃, the outer linear term in y (zero in the seed).
  public let outerLinearTerm: Tensor
  /// A, with ∇F(x) = A x − k.
  public let hypergradientMatrix: Tensor
  /// k, with ∇F(x) = A x − k.
  public let hypergradientOffset: Tensor

  /// A random instance.
  ///
  /// - Parameters:
  ///   - dimension: d (50 in the seed's text, 100 and 200 in its figure).
  ///   - rank: l < d (48 in the seed).
  ///   - outerRank: the rank of P, 1...d (nil: l, as in the seed).
  ///   - samples: n (2500 in the seed).
  ///   - spectrum: [μ, L], the range of D¹ and D²'s diagonals.
  ///   - coupling: the scale of R¹ and R²: 0.01 × 0.001 = 1e-5 in the seed.
  ///   - linearTerm: the scale of b (0 in the seed).
  ///   - seed: the seed of every draw.
  public init(
    dimension: Int = 50, rank: Int = 48, outerRank: Int? = nil, samples: Int = 2500,
    spectrum: ClosedRange<Double> = 0.1...1, coupling: Double = 1e-5, linearTerm: Double = 0, seed: UInt64 = 0
  ) {
    let d = dimension
    require(rank > 0 && rank < d, "PLGame: rank must lie in 1..<\(d), got \(rank)")
    let outerRank = outerRank ?? rank
    require(outerRank > 0 && outerRank <= d, "PLGame: outerRank must lie in 1...\(d), got \(outerRank)")
    require(samples > 0, "PLGame: samples must be positive, got \(samples)")
    require(spectrum.lowerBound > 0, "PLGame: the spectrum [μ, L] must be positive")
    self.dimension = d
    self.rank = rank
    let n = Double(samples)
    /// (1/n) Σ s_i s_iᵀ for s_i = F z_i, z_i ~ N(0, I): the empirical covariance of n samples.
    func empiricalCovariance(factor: Tensor, seed: UInt64) -> Tensor {
      let z = Tensor(randomNormal: [samples, factor.shape[1]], seed: seed)
      let s = matmul(z, transposed: false, factor, transposed: true)  // n × d, rows s_iᵀ
      return matmul(s, transposed: true, s) / n
    }
    /// U D^{1/2}: the factor of Σ = U D Uᵀ, U's columns orthonormal, D uniform in [μ, L].
    func lowRankFactor(rank: Int, seed: UInt64) -> (factor: Tensor, basis: Tensor) {
      let basis = randomOrthogonalMatrix(d, seed: seed).slicing(0..<rank, alongAxis: 1)
      var generator = SeededRandomNumberGenerator(seed: seed &+ 17)
      let roots = Tensor((0..<rank).map { _ in Double.random(in: spectrum, using: &generator).squareRoot() })
      return (basis * roots.reshaped(to: [1, rank]), basis)
    }
    let (pFactor, _) = lowRankFactor(rank: outerRank, seed: seed)
    let (qFactor, qBasis) = lowRankFactor(rank: rank, seed: seed &+ 1)
    let p = empiricalCovariance(factor: pFactor, seed: seed &+ 2)
    let q = empiricalCovariance(factor: qFactor, seed: seed &+ 3)
    // r_i ~ N(0, 0.001 V Vᵀ) and R = (1/n) Σ 0.01 r_i r_iᵀ: coupling × empirical cov. of V z.
    let r1 = coupling * empiricalCovariance(factor: Tensor(randomNormal: [d, d], seed: seed &+ 4), seed: seed &+ 5)
    let r2 = coupling * empiricalCovariance(factor: Tensor(randomNormal: [d, d], seed: seed &+ 6), seed: seed &+ 7)
    let projector = matmul(qBasis, transposed: false, qBasis, transposed: true)
    let coupled1 = matmul(r1, projector)
    let coupled2 = matmul(r2, projector)
    let b = matmul(projector, linearTerm * Tensor(randomNormal: [d], seed: seed &+ 8))
    // Q⁺ = U² (U²ᵀ Q U²)⁻¹ U²ᵀ, by Cholesky on the l × l block.
    let block = matmul(matmul(qBasis, transposed: true, q), qBasis).scalars
    guard case .success(let factor) = DenseFactorizations.cholesky(block, n: rank) else {
      fatalError("PLGame: U²ᵀ Q U² is not positive definite; use more samples than the rank")
    }
    let basisT = qBasis.transposed().scalars  // l × d
    var solved = [Double](repeating: 0, count: rank * d)  // (U²ᵀQU²)⁻¹ U²ᵀ, l × d
    for column in 0..<d {
      let x = DenseFactorizations.choleskySolve(factor, n: rank, (0..<rank).map { basisT[$0 * d + column] })
      for row in 0..<rank { solved[row * d + column] = x[row] }
    }
    let pseudoInverse = matmul(qBasis, Tensor(shape: [rank, d], scalars: solved))
    let m = matmul(matmul(coupled1, pseudoInverse), coupled2.transposed())
    outerHessian = p
    innerHessian = q
    outerCoupling = coupled1
    innerCoupling = coupled2
    seedInnerCoupling = r2
    rangeProjector = projector
    outerLinearTerm = b
    hypergradientMatrix = p - m - m.transposed()
    hypergradientOffset = matmul(matmul(coupled2, pseudoInverse), b)
    problem = BilevelProblem(
      outer: { x, y in 0.5 * dot(x, matmul(p, x)) + dot(x, matmul(coupled1, y)) + dot(b, y) },
      inner: { x, y in 0.5 * dot(y, matmul(q, y)) + dot(x, matmul(coupled2, y)) })
  }

  /// ∇F(x) = A x − k, exact.
  public func hypergradient(at x: Tensor) -> Tensor { matmul(hypergradientMatrix, x) - hypergradientOffset }

  /// F(x) = ½ xᵀ (A x) − kᵀ x up to a constant: F(x) = ½ xᵀ P x − xᵀ M x − kᵀ x exactly.
  public func outerValue(at x: Tensor) -> Double {
    (0.5 * dot(x, matmul(hypergradientMatrix, x)) - dot(hypergradientOffset, x)).scalar
  }

  /// x* = A⁻¹ k, the stationary point (nil when A is singular).
  public var stationaryPoint: Tensor? {
    DenseFactorizations.luSolve(hypergradientMatrix.scalars, n: dimension, hypergradientOffset.scalars).map {
      Tensor($0)
    }
  }

  /// An evaluator with the exact F(x) and ‖∇F(x)‖.
  public func evaluator() -> (Tensor, Tensor) -> Evaluation {
    { x, _ in Evaluation(outerValue: outerValue(at: x), hypergradientNorm: hypergradient(at: x).norm().scalar) }
  }
}
