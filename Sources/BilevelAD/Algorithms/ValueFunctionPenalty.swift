import Autodiff

/// A penalty method on the value-function reformulation with a smooth surrogate of the
/// value function.
///
/// The reformulation and its relaxation are those of `seeds/000_c49b68d03854275a.txt`
/// (lecture note 5-1, "The Value Function (VF)-Based Approach for BLO"):
/// ```
/// min_{x, y ∈ C} f(x, y)  s.t.  g(x, y) ≤ g*(x),   g*(x) := min_{y ∈ C} g(x, y)
/// "A relaxed version: replace g*(x) with a smooth surrogate
///  g*_μ(x) = min_{y ∈ C} g(x, y) + (μ₁/2) ‖y‖² + μ₂"
/// ```
/// The lecture leaves the solver open ("one can adopt standard nonlinear optimization
/// algorithms (e.g., penalty-based ...)"); this type takes the penalty route of V-PBGD
/// (Shen and Chen, ICML 2023) on the relaxed constraint c(x, y) = g(x, y) − g*_μ(x):
/// ```
/// θ* ≈ argmin_θ g(x, θ) + (μ₁/2) ‖θ‖²      (T warm-started gradient steps)
/// c = g(x, y) − g(x, θ*) − (μ₁/2) ‖θ*‖² − μ₂
/// ∇_x c = ∇_x g(x, y) − ∇_x g(x, θ*)        (Danskin),   ∇_y c = ∇_y g(x, y)
/// P_k = f + γ_k max(0, c),   γ_k = min(γ₀ + k Δγ, γ_max)
/// (x, y) ← (Proj_C(x − α ∇_x P_k), y − α ∇_y P_k)
/// ```
/// μ₂ > 0 is the slack the relaxation allows: inside it the constraint does not act and f
/// alone moves (x, y). The surrogate is the default, `.regularized(mu1: 0.01, mu2:
/// 1e-4)` (the lecture gives no values).
///
/// `.moreauEnvelope(μ)` keeps the earlier, y-dependent surrogate v_μ(x, y) = min_θ
/// g(x, θ) + ‖θ − y‖²/(2μ) (Gao, Ye, Yin, Zeng, Zhang, arXiv:2306.16761): c = g − v_μ
/// ≥ 0 always, ∇_x v_μ = ∇_x g(x, θ*), ∇_y v_μ = (y − θ*)/μ, and θ ≈ argmin of g(x, ·) +
/// ‖· − y‖²/(2μ).
///
/// Oracle calls per iteration: T ∇_y g (for θ*), one ∇f, one ∇g, one ∇_x g at θ*; the
/// regularized surrogate adds two values of g (for c).
///
/// References: lecture note 5-1 (the seed above); H. Shen and T. Chen, "On penalty-based
/// bilevel gradient descent method", ICML 2023; L. Gao et al., arXiv:2306.16761, 2023.
public struct ValueFunctionPenalty: BilevelAlgorithm {
  /// The smooth stand-in for g*(x).
  public enum Surrogate: Sendable, Equatable {
    /// The lecture's g*_μ(x) = min_θ g(x, θ) + (μ₁/2)‖θ‖² + μ₂, μ₁ > 0, μ₂ ≥ 0.
    case regularized(mu1: Double, mu2: Double)
    /// The Moreau envelope v_μ(x, y) = min_θ g(x, θ) + ‖θ − y‖²/(2μ), μ > 0.
    case moreauEnvelope(Double)
  }

  /// "value-function".
  public let name = "value-function"
  /// α, the step of (x, y).
  public var jointStep: Double
  /// The step of the T gradient steps on θ.
  public var innerStep: Double
  /// T.
  public var innerIterations: Int
  /// The surrogate of the value function.
  public var surrogate: Surrogate
  /// γ₀, Δγ and γ_max.
  public var penalty: (initial: Double, increment: Double, maximum: Double)
  /// The set x lives in.
  public var constraint: ConstraintSet

  /// The current outer iterate.
  public private(set) var x = Tensor(0)
  /// The current inner iterate.
  public private(set) var y = Tensor(0)
  /// The surrogate's minimizer θ*, warm-started.
  public private(set) var theta = Tensor(0)
  /// c(x, y) at the last step (the regularized surrogate's constraint value; NaN for the
  /// Moreau envelope, which does not compute it).
  public private(set) var constraintValue = Double.nan
  private var k = 0

  /// The penalty method; γ grows from 1 by 0.1 per iteration up to 10.
  ///
  /// - Parameters:
  ///   - jointStep: α, below 1 / (L_f + γ_max L_g).
  ///   - innerStep: the step on θ.
  ///   - innerIterations: T.
  ///   - surrogate: the lecture's relaxed value function by default.
  ///   - penalty: γ₀, Δγ, γ_max.
  ///   - constraint: C, the set of x.
  public init(
    jointStep: Double = 0.01, innerStep: Double = 0.1, innerIterations: Int = 10,
    surrogate: Surrogate = .regularized(mu1: 0.01, mu2: 1e-4),
    penalty: (initial: Double, increment: Double, maximum: Double) = (1, 0.1, 10),
    constraint: ConstraintSet = .unconstrained
  ) {
    require(
      jointStep > 0 && innerStep > 0 && innerIterations >= 0,
      "ValueFunctionPenalty: the steps must be positive and innerIterations non-negative")
    switch surrogate {
    case .regularized(let mu1, let mu2):
      require(mu1 > 0 && mu2 >= 0, "ValueFunctionPenalty: the surrogate needs μ₁ > 0 and μ₂ ≥ 0")
    case .moreauEnvelope(let mu):
      require(mu > 0, "ValueFunctionPenalty: the Moreau envelope needs μ > 0, got \(mu)")
    }
    require(
      penalty.initial >= 0 && penalty.increment >= 0 && penalty.maximum >= penalty.initial,
      "ValueFunctionPenalty: invalid penalty schedule")
    self.jointStep = jointStep
    self.innerStep = innerStep
    self.innerIterations = innerIterations
    self.surrogate = surrogate
    self.penalty = penalty
    self.constraint = constraint
  }

  /// γ_k.
  public func penalty(at k: Int) -> Double { min(penalty.initial + Double(k) * penalty.increment, penalty.maximum) }

  /// Sets x = Proj_C(x0), y = θ = y0.
  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    self.x = constraint.project(x)
    self.y = y
    theta = y
    k = 0
  }

  /// θ's T steps, then one step on the penalty.
  public mutating func step(oracles: Oracles) -> Tensor {
    let gamma = penalty(at: k)
    let directionX: Tensor
    let directionY: Tensor
    switch surrogate {
    case .regularized(let mu1, let mu2):
      for _ in 0..<innerIterations where !oracles.isPastDeadline {
        theta = theta - innerStep * (oracles.innerGradientY(x: x, y: theta) + mu1 * theta)
      }
      constraintValue =
        oracles.innerValue(x: x, y: y) - oracles.innerValue(x: x, y: theta) - 0.5 * mu1 * dot(theta, theta).scalar
        - mu2
      let (fx, fy) = oracles.outerGradients(x: x, y: y)
      if constraintValue > 0 {
        let (gx, gy) = oracles.innerGradients(x: x, y: y)
        directionX = fx + gamma * (gx - oracles.innerGradientX(x: x, y: theta))
        directionY = fy + gamma * gy
      } else {
        (directionX, directionY) = (fx, fy)
      }
    case .moreauEnvelope(let mu):
      for _ in 0..<innerIterations where !oracles.isPastDeadline {
        theta = theta - innerStep * (oracles.innerGradientY(x: x, y: theta) + (theta - y) / mu)
      }
      let (fx, fy) = oracles.outerGradients(x: x, y: y)
      let (gx, gy) = oracles.innerGradients(x: x, y: y)
      directionX = fx + gamma * (gx - oracles.innerGradientX(x: x, y: theta))
      directionY = fy + gamma * (gy - (y - theta) / mu)
    }
    x = constraint.project(x - jointStep * directionX)
    y = y - jointStep * directionY
    k += 1
    return directionX
  }
}
