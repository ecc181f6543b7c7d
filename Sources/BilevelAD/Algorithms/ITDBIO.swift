import Autodiff

/// ITD-BIO: iterative differentiation through the inner loop.
///
/// One outer iteration k:
/// ```
/// y_0 = y (warm start, held constant),  y_{t+1} = y_t − β ∇_y g(x, y_t),  t < T
/// x ← x − α ∇_x f(x, y_T(x))        (reverse mode through the T steps)
/// y ← y_T
/// ```
/// Oracle calls per iteration: T ∇_y g forward, T Hessian-vector and T cross products
/// backward, one ∇f, one ∇_y g (final inner-gradient check).
///
/// References: K. Ji, J. Yang and Y. Liang, "Bilevel optimization: convergence analysis
/// and enhanced design", ICML 2021 (ITD-BiO, Algorithm 2); L. Franceschi et al., "Forward
/// and reverse gradient-based hyperparameter optimization", ICML 2017.
public struct ITDBIO: BilevelAlgorithm {
  public let name = "itd-bio"
  /// α.
  public var outerStep: Double
  /// β.
  public var innerStep: Double
  /// T.
  public var innerIterations: Int
  /// How the loop is differentiated: `.reverse` (default), `.forward`, `.checkpointed`.
  public var mode: UnrollMode

  public private(set) var x = Tensor(0)
  public private(set) var y = Tensor(0)

  /// ITD-BIO with the given steps.
  ///
  /// - Parameters:
  ///   - outerStep: α.
  ///   - innerStep: β.
  ///   - innerIterations: T.
  ///   - mode: how to differentiate through the T steps.
  public init(
    outerStep: Double = 0.1, innerStep: Double = 0.1, innerIterations: Int = 10, mode: UnrollMode = .reverse
  ) {
    require(innerIterations >= 0, "ITDBIO: innerIterations must be non-negative, got \(innerIterations)")
    self.outerStep = outerStep
    self.innerStep = innerStep
    self.innerIterations = innerIterations
    self.mode = mode
  }

  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    self.x = x
    self.y = y
  }

  public mutating func step(oracles: Oracles) -> Tensor {
    let estimate = oracles.problem.unrolledHypergradient(
      x: x, y0: y, steps: innerIterations, innerLearningRate: innerStep, mode: mode, innerTolerance: .infinity)
    oracles.record(estimate.counts)
    y = estimate.innerIterate ?? y
    x = x - outerStep * estimate.gradient
    return estimate.gradient
  }
}
