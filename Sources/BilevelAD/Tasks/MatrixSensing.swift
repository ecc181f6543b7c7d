import Autodiff

/// Hyper-representation learning in matrix sensing, after Huang (ICML 2024, HJFBiO; also
/// MGBiO): a low-rank factor U = [y; x] whose lower block y is fitted on training
/// measurements and whose upper block x (the shared representation) on validation ones.
///
/// ```
/// H* = U* U*ᵀ,  s_i = <A_i, H*>,  A_i Gaussian d × d (symmetrized),  i < n = 20 d
/// g(x, y) = (1 / 2|train|) Σ_{i∈train} (<A_i, U Uᵀ> − s_i)²      (40 % of the measurements)
/// f(x, y) = (1 / 2|valid|) Σ_{i∈valid} (<A_i, U Uᵀ> − s_i)²      (60 %)
/// ```
/// The inner problem is nonconvex and only locally PL; the task reports the relative
/// recovery error ‖U Uᵀ − H*‖_F / ‖H*‖_F as a metric. The paper's dimensions could not be
/// consulted; the defaults are small (d = 10, rank 3, y the first 6 rows).
public struct MatrixSensing {
  /// d.
  public let dimension: Int
  /// r, the rank.
  public let rank: Int
  /// Rows of U in the lower block y.
  public let innerRows: Int
  /// The true factor U*, d × r.
  public let truth: Tensor
  /// The problem in (x, y): x of shape [d − innerRows, r], y of shape [innerRows, r].
  public let problem: BilevelProblem

  /// A random instance.
  ///
  /// - Parameters:
  ///   - dimension: d.
  ///   - rank: r.
  ///   - innerRows: the rows of U in y.
  ///   - seed: the seed.
  public init(dimension: Int = 10, rank: Int = 3, innerRows: Int = 6, seed: UInt64 = 0) {
    require(innerRows > 0 && innerRows < dimension, "MatrixSensing: innerRows must lie in 1..<\(dimension)")
    self.dimension = dimension
    self.rank = rank
    self.innerRows = innerRows
    let d = dimension
    let count = 20 * d
    let trainCount = count * 2 / 5
    truth = Tensor(randomNormal: [d, rank], seed: seed) / Double(rank).squareRoot()
    let target = matmul(truth, transposed: false, truth, transposed: true)
    let raw = Tensor(randomNormal: [count, d, d], seed: seed &+ 1)
    let sensing = (0.5 * (raw + raw.transposed(permutation: [0, 2, 1]))).reshaped(to: [count, d * d])
    let measurements = matmul(sensing, target.reshaped(to: [d * d]))
    let trainA = sensing.slicing(0..<trainCount)
    let trainS = measurements.slicing(0..<trainCount)
    let validA = sensing.slicing(trainCount..<count)
    let validS = measurements.slicing(trainCount..<count)
    func loss(_ x: Tensor, _ y: Tensor, _ a: Tensor, _ s: Tensor) -> Tensor {
      let u = y.concatenated(with: x, alongAxis: 0)
      let h = matmul(u, transposed: false, u, transposed: true).reshaped(to: [d * d])
      return 0.5 * (matmul(a, h) - s).squared().mean()
    }
    problem = BilevelProblem(
      outer: { x, y in loss(x, y, validA, validS) },
      inner: { x, y in loss(x, y, trainA, trainS) })
  }

  /// The shapes of x and y.
  public var outerShape: [Int] { [dimension - innerRows, rank] }
  public var innerShape: [Int] { [innerRows, rank] }

  /// ‖U Uᵀ − H*‖_F / ‖H*‖_F for U = [y; x].
  public func recoveryError(x: Tensor, y: Tensor) -> Double {
    let u = y.concatenated(with: x, alongAxis: 0)
    let h = matmul(u, transposed: false, u, transposed: true)
    let target = matmul(truth, transposed: false, truth, transposed: true)
    return ((h - target).norm() / target.norm()).scalar
  }

  /// An evaluator: F and ‖∇F‖ from the default evaluation, plus the recovery error.
  public func evaluator() -> (Tensor, Tensor) -> Evaluation {
    let problem = self.problem
    return { x, y in
      var evaluation = problem.evaluate(x: x, y: y)
      evaluation.metrics["recovery error"] = recoveryError(x: x, y: y)
      return evaluation
    }
  }
}
