import Autodiff

/// How BOME's control barrier φ is chosen.
public enum BOMEBarrier: String, Sendable, CaseIterable {
  /// φ = η ‖∇q̂‖² (the paper's default).
  case gradientNorm
  /// φ = η q̂(x, y), the value gap (the official data-cleaning experiment).
  case valueGap
}

/// BOME: a first-order method on the value-function constraint with a dynamic barrier.
///
/// One outer iteration:
/// ```
/// y_T: T gradient steps on g(x, ·) from y (α each), held constant (stop-gradient)
/// q̂(x, y) = g(x, y) − g(x, y_T),   ∇q̂ = (∇_x g(x, y) − ∇_x g(x, y_T), ∇_y g(x, y))
/// φ = η ‖∇q̂‖²  (or η q̂)
/// λ = max(φ − <∇f, ∇q̂>, 0) / ‖∇q̂‖²       (λ = 0 when ∇q̂ = 0)
/// (x, y) ← (x, y) − ξ (∇f(x, y) + λ ∇q̂)   (x's step ξ / outerRatio, then projected;
///                                          with `momentum` β the step is heavy ball,
///                                          m ← β m + d, (x, y) ← (x, y) − ξ m)
/// ```
/// Oracle calls per iteration: T ∇_y g, one ∇f, one ∇g (both partials), one ∇_x g at y_T
/// (and two g values with the value-gap barrier).
///
/// References: B. Liu, M. Ye, S. Wright, P. Stone and Q. Liu, "BOME! Bilevel
/// optimization made easy: a simple first-order approach", NeurIPS 2022. Defaults
/// (η = 0.5, T = 10, steps 0.1) as in the paper and the benchopt bilevel benchmark.
public struct BOME: BilevelAlgorithm {
  public let name = "bome"
  /// ξ, the joint step on (x, y).
  public var jointStep: Double
  /// ξ / (x's step).
  public var outerRatio: Double
  /// α, the step of the T inner steps.
  public var innerStep: Double
  /// T.
  public var innerIterations: Int
  /// η.
  public var barrierWeight: Double
  /// The barrier φ.
  public var barrier: BOMEBarrier
  /// A set x is projected onto after each step.
  public var constraint: ConstraintSet
  /// β of heavy-ball momentum on the joint step (0: plain BOME). The official code's
  /// data-cleaning experiment steps with SGD and momentum 0.9.
  public var momentum: Double

  public private(set) var x = Tensor(0)
  public private(set) var y = Tensor(0)
  /// λ of the last step.
  public private(set) var multiplier = 0.0
  private var velocity: (x: Tensor, y: Tensor)?

  /// BOME with the published defaults.
  public init(
    jointStep: Double = 0.1, outerRatio: Double = 1, innerStep: Double = 0.1, innerIterations: Int = 10,
    barrierWeight: Double = 0.5, barrier: BOMEBarrier = .gradientNorm, constraint: ConstraintSet = .unconstrained,
    momentum: Double = 0
  ) {
    require(momentum >= 0 && momentum < 1, "BOME: momentum must lie in [0, 1), got \(momentum)")
    require(innerIterations >= 0 && barrierWeight >= 0 && outerRatio > 0, "BOME: invalid parameters")
    self.jointStep = jointStep
    self.outerRatio = outerRatio
    self.innerStep = innerStep
    self.innerIterations = innerIterations
    self.barrierWeight = barrierWeight
    self.barrier = barrier
    self.constraint = constraint
    self.momentum = momentum
  }

  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    self.x = constraint.project(x)
    self.y = y
    velocity = nil
  }

  public mutating func step(oracles: Oracles) -> Tensor {
    var yT = y
    for _ in 0..<innerIterations where !oracles.isPastDeadline {
      yT = yT - innerStep * oracles.innerGradientY(x: x, y: yT)
    }
    let (fx, fy) = oracles.outerGradients(x: x, y: y)
    let (gx, gy) = oracles.innerGradients(x: x, y: y)
    let qx = gx - oracles.innerGradientX(x: x, y: yT)
    let qy = gy
    let normSquared = innerProduct(qx, qx) + innerProduct(qy, qy)
    let phi: Double
    switch barrier {
    case .gradientNorm: phi = barrierWeight * normSquared
    case .valueGap: phi = barrierWeight * (oracles.innerValue(x: x, y: y) - oracles.innerValue(x: x, y: yT))
    }
    let alignment = innerProduct(fx, qx) + innerProduct(fy, qy)
    multiplier = normSquared > 0 ? max(phi - alignment, 0) / normSquared : 0
    let directionX = fx + multiplier * qx
    let directionY = fy + multiplier * qy
    var stepX = directionX
    var stepY = directionY
    if momentum > 0 {
      if let velocity {
        stepX = momentum * velocity.x + directionX
        stepY = momentum * velocity.y + directionY
      }
      velocity = (stepX, stepY)
    }
    x = constraint.project(x - (jointStep / outerRatio) * stepX)
    y = y - jointStep * stepY
    return directionX
  }
}
