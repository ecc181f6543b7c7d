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
  public var outerStepSize: Double
  /// β.
  public var innerStepSize: Double
  /// T.
  public var innerSteps: Int
  /// K ≤ T.
  public var truncatedSteps: Int

  public private(set) var x = Tensor(0)
  public private(set) var y = Tensor(0)

  /// K-RMD with the given steps.
  ///
  /// - Parameters:
  ///   - outerStepSize: α.
  ///   - innerStepSize: β.
  ///   - innerSteps: T.
  ///   - truncatedSteps: K, the steps back-propagated through.
  public init(outerStepSize: Double = 0.1, innerStepSize: Double = 0.1, innerSteps: Int = 20, truncatedSteps: Int = 5) {
    require(truncatedSteps >= 0 && innerSteps >= 0, "KRMD: step counts must be non-negative")
    self.outerStepSize = outerStepSize
    self.innerStepSize = innerStepSize
    self.innerSteps = innerSteps
    self.truncatedSteps = truncatedSteps
  }

  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    self.x = x
    self.y = y
  }

  public mutating func step(oracles: Oracles) -> Tensor {
    let estimate = oracles.problem.unrolledHypergradient(
      x: x, y0: y, steps: innerSteps, innerLearningRate: innerStepSize, mode: .truncated(lastSteps: truncatedSteps),
      innerTolerance: .infinity)
    oracles.record(estimate.counts)
    y = estimate.innerIterate ?? y
    x = x - outerStepSize * estimate.gradient
    return estimate.gradient
  }
}
