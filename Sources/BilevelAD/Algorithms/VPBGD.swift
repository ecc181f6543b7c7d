import Autodiff

/// V-PBGD: gradient descent on the value-function penalty f + γ (g − g*).
///
/// ```
/// ω ← ω − β ∇_y g(x, ω)                  T times (ω warm-started, never reset)
/// d_x = ∇_x f(x, y) + γ (∇_x g(x, y) − ∇_x g(x, ω))     (Danskin: ∇g*(x) ≈ ∇_x g(x, ω))
/// d_y = ∇_y f(x, y) + γ ∇_y g(x, y)
/// (x, y) ← (Proj_C(x − α d_x), y − α d_y)
/// ```
/// The penalty γ ramps linearly from `penalty.initial` to `penalty.final` over
/// `penalty.rampIterations` iterations (the official code's schedule). Stationary points
/// of the penalty are O(1/γ)-stationary for the bilevel problem; α must stay below
/// 1 / (L_f + γ L_g).
///
/// Oracle calls per iteration: T ∇_y g, one ∇f, one ∇g, one ∇_x g.
///
/// References: H. Shen and T. Chen, "On penalty-based bilevel gradient descent method",
/// ICML 2023.
public struct VPBGD: BilevelAlgorithm {
  public let name = "v-pbgd"
  /// α.
  public var jointStep: Double
  /// β.
  public var innerStep: Double
  /// T.
  public var innerIterations: Int
  /// γ's start, end and ramp length.
  public var penalty: (initial: Double, final: Double, rampIterations: Int)
  /// The set x lives in.
  public var constraint: ConstraintSet

  public private(set) var x = Tensor(0)
  public private(set) var y = Tensor(0)
  private var omega = Tensor(0)
  private var t = 0

  /// V-PBGD; by default γ = 10 from the start and T = 10 inner steps.
  public init(
    jointStep: Double = 0.01, innerStep: Double = 0.1, innerIterations: Int = 10,
    penalty: (initial: Double, final: Double, rampIterations: Int) = (10, 10, 0),
    constraint: ConstraintSet = .unconstrained
  ) {
    require(jointStep > 0 && innerStep > 0 && innerIterations >= 0, "VPBGD: invalid parameters")
    require(penalty.initial >= 0 && penalty.final >= 0, "VPBGD: the penalty must be non-negative")
    self.jointStep = jointStep
    self.innerStep = innerStep
    self.innerIterations = innerIterations
    self.penalty = penalty
    self.constraint = constraint
  }

  /// γ at iteration t.
  public func penalty(at t: Int) -> Double {
    if penalty.rampIterations <= 0 || t >= penalty.rampIterations { return penalty.final }
    return penalty.initial + (penalty.final - penalty.initial) * Double(t) / Double(penalty.rampIterations)
  }

  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    self.x = constraint.project(x)
    self.y = y
    self.omega = y
    t = 0
  }

  public mutating func step(oracles: Oracles) -> Tensor {
    for _ in 0..<innerIterations where !oracles.isPastDeadline {
      omega = omega - innerStep * oracles.innerGradientY(x: x, y: omega)
    }
    let gamma = penalty(at: t)
    let (fx, fy) = oracles.outerGradients(x: x, y: y)
    let (gx, gy) = oracles.innerGradients(x: x, y: y)
    let directionX = fx + gamma * (gx - oracles.innerGradientX(x: x, y: omega))
    let directionY = fy + gamma * gy
    x = constraint.project(x - jointStep * directionX)
    y = y - jointStep * directionY
    t += 1
    return directionX
  }
}
