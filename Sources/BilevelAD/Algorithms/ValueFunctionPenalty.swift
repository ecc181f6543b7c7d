import Autodiff

/// A penalty method on the value-function reformulation with a smoothed value function.
///
/// ```
/// min_{x, y} f(x, y)   s.t.   g(x, y) − v_μ(x, y) ≤ 0,
/// v_μ(x, y) = min_θ g(x, θ) + ‖θ − y‖² / (2μ)          (Moreau envelope of g in y)
/// ∇_x v_μ = ∇_x g(x, θ*),   ∇_y v_μ = (y − θ*) / μ
/// ```
/// The constraint function g − v_μ ≥ 0 is smooth, zero exactly at the inner solutions
/// (for convex g), and its gradient needs only θ*, found by T warm-started gradient steps
/// on θ ↦ g(x, θ) + ‖θ − y‖²/(2μ). One outer iteration steps on the penalty
/// ```
/// P_k(x, y) = f(x, y) + γ_k (g(x, y) − v_μ(x, y)),    γ_k = min(γ₀ + k Δγ, γ_max)
/// (x, y) ← (Proj_C(x − α ∇_x P_k), y − α ∇_y P_k)
/// ```
/// Stationary points of P_k approach bilevel stationary points as γ_k grows and μ
/// shrinks; α must stay below 1 / (L_f + γ_k L_g).
///
/// Oracle calls per iteration: T ∇_y g (for θ*), one ∇f, one ∇g, one ∇_x g at θ*.
///
/// References: L. Gao, J. Ye, H. Yin, S. Zeng and J. Zhang, "Moreau envelope based
/// difference-of-weakly-convex reformulation and algorithm for bilevel programs",
/// arXiv:2306.16761, 2023; the value-function reformulation of the course notes
/// (lecture 5-1); H. Shen and T. Chen, ICML 2023 (the penalty method, V-PBGD).
public struct ValueFunctionPenalty: BilevelAlgorithm {
  public let name = "value-function"
  /// α.
  public var jointStep: Double
  /// The step of the T gradient steps on θ.
  public var innerStep: Double
  /// T.
  public var innerIterations: Int
  /// μ, the smoothing of the value function.
  public var smoothing: Double
  /// γ₀, Δγ and γ_max.
  public var penalty: (initial: Double, increment: Double, maximum: Double)
  /// The set x lives in.
  public var constraint: ConstraintSet

  public private(set) var x = Tensor(0)
  public private(set) var y = Tensor(0)
  private var theta = Tensor(0)
  private var k = 0

  /// The penalty method; γ grows from 1 by 0.1 per iteration up to 10.
  public init(
    jointStep: Double = 0.01, innerStep: Double = 0.1, innerIterations: Int = 10, smoothing: Double = 1,
    penalty: (initial: Double, increment: Double, maximum: Double) = (1, 0.1, 10),
    constraint: ConstraintSet = .unconstrained
  ) {
    require(
      jointStep > 0 && innerStep > 0 && innerIterations >= 0 && smoothing > 0,
      "ValueFunctionPenalty: invalid parameters")
    require(
      penalty.initial >= 0 && penalty.increment >= 0 && penalty.maximum >= penalty.initial,
      "ValueFunctionPenalty: invalid penalty schedule")
    self.jointStep = jointStep
    self.innerStep = innerStep
    self.innerIterations = innerIterations
    self.smoothing = smoothing
    self.penalty = penalty
    self.constraint = constraint
  }

  /// γ_k.
  public func penalty(at k: Int) -> Double { min(penalty.initial + Double(k) * penalty.increment, penalty.maximum) }

  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    self.x = constraint.project(x)
    self.y = y
    theta = y
    k = 0
  }

  public mutating func step(oracles: Oracles) -> Tensor {
    for _ in 0..<innerIterations where !oracles.isPastDeadline {
      theta = theta - innerStep * (oracles.innerGradientY(x: x, y: theta) + (theta - y) / smoothing)
    }
    let gamma = penalty(at: k)
    let (fx, fy) = oracles.outerGradients(x: x, y: y)
    let (gx, gy) = oracles.innerGradients(x: x, y: y)
    let directionX = fx + gamma * (gx - oracles.innerGradientX(x: x, y: theta))
    let directionY = fy + gamma * (gy - (y - theta) / smoothing)
    x = constraint.project(x - jointStep * directionX)
    y = y - jointStep * directionY
    k += 1
    return directionX
  }
}
