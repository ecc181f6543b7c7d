import Autodiff

/// Hyper-representation learning in matrix sensing, as `seeds/001_71a07ee1a5f6e715.txt`
/// defines it ("Experimental Results", 2) Hyper-Representation Learning, problem (35)).
///
/// ```
/// H* = U* U*ᵀ,  U* ∈ ℝ^{d×r} with N(0, 1/d) entries
/// e_i = ⟨C_i, H*⟩,  C_i ∈ ℝ^{d×d} with N(0, 1) entries,  i = 1 … n = 20 d   (no noise)
/// ℓ_i(U) = ½ (⟨C_i, U Uᵀ⟩ − e_i)²,   U = [x, y]: x the first r − 1 columns, y the last
/// f(x, y) = (1/|D_v|) Σ_{i∈D_v} ℓ_i,  D_v 60 % of the samples
/// g(x, y) = (1/|D_t|) Σ_{i∈D_t} ℓ_i,  D_t the other 40 %
/// ```
/// The seed writes U = [y; x] and, in the same sentence, "x the first r − 1 columns of U
/// and y the last column"; the two disagree on the order, and the order changes nothing
/// (U Uᵀ is a sum over columns), so the code follows the sentence: U = [x, y].
/// The seed runs d = 100 and 200 (its Figure 2) and does not state r; the default here is
/// r = 3, and d = 10 keeps the command line's task quick (`dimension:` takes the seed's
/// sizes: d = 100 stores n d² = 2·10⁷ numbers, d = 200 1.6·10⁸). The split takes the
/// first 40 % of the samples for D_t (the samples are i.i.d., so any fixed split is a
/// random one). The lower level is nonconvex in y (quartic) and locally PL; the task
/// reports the relative recovery error ‖U Uᵀ − H*‖_F / ‖H*‖_F as a metric.
public struct MatrixSensing {
  /// d.
  public let dimension: Int
  /// r, the rank.
  public let rank: Int
  /// n = 20 d, the number of sensing matrices.
  public let sampleCount: Int
  /// |D_t| = 40 % of n.
  public let trainCount: Int
  /// The true factor U*, d × r.
  public let truth: Tensor
  /// The problem in (x, y): x of shape [d, r − 1], y of shape [d].
  public let problem: BilevelProblem

  /// A random instance.
  ///
  /// - Parameters:
  ///   - dimension: d (100 and 200 in the seed).
  ///   - rank: r ≥ 2 (x has r − 1 columns).
  ///   - seed: the seed of U* and of the sensing matrices.
  public init(dimension: Int = 10, rank: Int = 3, seed: UInt64 = 0) {
    require(dimension >= 2, "MatrixSensing: the dimension d must be at least 2, got \(dimension)")
    require(rank >= 2 && rank <= dimension, "MatrixSensing: the rank r must lie in 2...\(dimension), got \(rank)")
    self.dimension = dimension
    self.rank = rank
    let d = dimension
    sampleCount = 20 * d
    trainCount = sampleCount * 2 / 5
    truth = Tensor(randomNormal: [d, rank], seed: seed) / Double(d).squareRoot()
    let target = matmul(truth, transposed: false, truth, transposed: true)
    let sensing = Tensor(randomNormal: [sampleCount, d * d], seed: seed &+ 1)
    let measurements = matmul(sensing, target.reshaped(to: [d * d]))
    let trainC = sensing.slicing(0..<trainCount)
    let trainE = measurements.slicing(0..<trainCount)
    let validC = sensing.slicing(trainCount..<sampleCount)
    let validE = measurements.slicing(trainCount..<sampleCount)
    func loss(_ x: Tensor, _ y: Tensor, _ c: Tensor, _ e: Tensor) -> Tensor {
      let u = x.concatenated(with: y.reshaped(to: [d, 1]), alongAxis: 1)
      let h = matmul(u, transposed: false, u, transposed: true).reshaped(to: [d * d])
      return 0.5 * (matmul(c, h) - e).squared().mean()
    }
    problem = BilevelProblem(
      outer: { x, y in loss(x, y, validC, validE) },
      inner: { x, y in loss(x, y, trainC, trainE) })
  }

  /// The shape of x: [d, r − 1].
  public var outerShape: TensorShape { [dimension, rank - 1] }
  /// The shape of y: [d].
  public var innerShape: TensorShape { [dimension] }

  /// ‖U Uᵀ − H*‖_F / ‖H*‖_F for U = [x, y].
  public func recoveryError(x: Tensor, y: Tensor) -> Double {
    let u = x.concatenated(with: y.reshaped(to: [dimension, 1]), alongAxis: 1)
    let h = matmul(u, transposed: false, u, transposed: true)
    let target = matmul(truth, transposed: false, truth, transposed: true)
    return ((h - target).norm() / target.norm()).scalar
  }

  /// An evaluator: F and ‖∇F‖ from the default evaluation (when `exact`), and at the
  /// iterate the recovery error, the validation loss f(x, y) and the training loss g(x, y).
  ///
  /// The seed's Figure 2 plots "losses of the algorithms" against iterations without
  /// saying at which point; f(x, y) at the iterate is what an experiment records without an
  /// inner solve, and with `exact: false` it is all an evaluation computes (at d = 200 the
  /// Newton-CG solve behind F(x) costs about 20 s, the iterations 0.3 to 5 s each).
  ///
  /// - Parameter exact: whether to compute F(x) = f(x, y*(x)) and ‖∇F(x)‖.
  /// - Returns: the evaluator.
  public func evaluator(exact: Bool = true) -> (Tensor, Tensor) -> Evaluation {
    let problem = self.problem
    return { x, y in
      var evaluation = exact ? problem.evaluate(x: x, y: y) : Evaluation()
      evaluation.metrics["recovery error"] = recoveryError(x: x, y: y)
      evaluation.metrics["validation loss"] = problem.outer(x, y).scalar
      evaluation.metrics["training loss"] = problem.inner(x, y).scalar
      return evaluation
    }
  }
}
