import Autodiff

/// K-RMD: truncated back-propagation through the last K of T inner steps.
///
/// One outer iteration:
/// ```
/// y_{t+1} = y_t − β ∇_y g(x, y_t),  t < T,  y_0 = y (warm start)
/// x ← x − α ĥ_K,  ĥ_K = ∇_x f + Σ_{t ≥ T−K} B_t^T A_{t+1}^T ⋯ A_{T−1}^T ∇_y f
/// ```
/// Only the last K steps are differentiated; the bias decays geometrically in K for
/// strongly convex g (Shaban et al., Proposition 3.1).
///
/// References: A. Shaban, C.-A. Cheng, N. Hatch and B. Boots, "Truncated
/// back-propagation for bilevel optimization", AISTATS 2019.
public struct KRMD: BilevelAlgorithm {
  public let name = "k-rmd"
  /// α.
  public var outerStep: Double
  /// β.
  public var innerStep: Double
  /// T.
  public var innerIterations: Int
  /// K ≤ T.
  public var truncatedIterations: Int

  public private(set) var x = Tensor(0)
  public private(set) var y = Tensor(0)

  /// K-RMD with the given steps.
  ///
  /// - Parameters:
  ///   - outerStep: α.
  ///   - innerStep: β.
  ///   - innerIterations: T.
  ///   - truncatedIterations: K, the steps back-propagated through.
  public init(outerStep: Double = 0.1, innerStep: Double = 0.1, innerIterations: Int = 20, truncatedIterations: Int = 5)
  {
    require(truncatedIterations >= 0 && innerIterations >= 0, "KRMD: step counts must be non-negative")
    self.outerStep = outerStep
    self.innerStep = innerStep
    self.innerIterations = innerIterations
    self.truncatedIterations = truncatedIterations
  }

  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    self.x = x
    self.y = y
  }

  public mutating func step(oracles: Oracles) -> Tensor {
    let estimate = oracles.problem.unrolledHypergradient(
      x: x, y0: y, steps: innerIterations, innerLearningRate: innerStep,
      mode: .truncated(lastSteps: truncatedIterations),
      innerTolerance: .infinity)
    oracles.record(estimate.counts)
    y = estimate.innerIterate ?? y
    x = x - outerStep * estimate.gradient
    return estimate.gradient
  }
}
