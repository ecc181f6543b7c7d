import Autodiff

/// GALET: alternating gradient steps on y, on the shadow implicit gradient w, and on x,
/// for inner problems that satisfy the Polyak-Łojasiewicz condition.
///
/// One outer iteration:
/// ```
/// y ← y − β ∇_y g(x, y)                                  N times (y warm-started)
/// b = ∇_y f(x, y),   H = ∇²_yy g(x, y)
/// w ← w − ρ H (H w − b)                                  K times (w warm-started)
///                         gradient steps on ½ ‖H w − b‖², two products each
/// d_x = ∇_x f(x, y) − ∇²_xy g(x, y) w                    the shadow implicit gradient
/// x ← x − α d_x
/// ```
/// The least-squares problem replaces the linear system H w = b of the implicit function
/// theorem, so it stays well posed when H is singular (a PL inner problem that is not
/// strongly convex): gradient descent from w = 0 stays in range(H) and tends to the
/// minimum-norm least-squares solution H⁺ b. The price is a squared condition number,
/// so ρ < 2 / λ_max(H)² and the contraction per step is 1 − ρ λ_min⁺(H)². When H is
/// singular and b has a component outside range(H), the residual ‖H w − b‖ cannot reach
/// zero: `shadowResidual` reports it after every iteration (one more product).
///
/// Oracle calls per iteration: N ∇_y g; one ∇f (both partials); 2K + 1 Hessian-vector
/// products (two per w step, one for the reported residual); one cross product.
///
/// Parameters (defaults of this implementation, not the paper's tuned values): α =
/// `outerStep` = 0.1, β = `innerStep` = 0.1, N = `innerIterations` = 10, ρ =
/// `shadowStep` = 0.01, K = `shadowIterations` = 10.
///
/// References: Q. Xiao, S. Lu and T. Chen, "A Generalized Alternating Method for Bilevel
/// Learning under the Polyak-Łojasiewicz Condition", NeurIPS 2023 (arXiv:2306.02422).
/// Sources, and what each fixes: seed 001 (`seeds/001_71a07ee1a5f6e715.txt`, Table 1 and its
/// note) places GALET as a triple-loop method (y loop, shadow loop, x step) that assumes
/// the PL condition with ∇²_yy g's nonzero singular values bounded below (σ_g > 0); the
/// paper's abstract (ar5iv 2306.02422, the part of the paper reachable with this
/// project's tools) gives the alternating structure. The paper's Algorithm 1 is not among
/// the seeds and its text is not reachable here, so the loop above (N gradient steps on y
/// from the last y, K gradient steps on the shadow least-squares problem with w warm-started,
/// then the x step, every oracle after the y loop at (x_k, y_{k+1})) is this package's
/// reading, unchecked line by line. The paper may write w with the opposite sign (w' = −w,
/// the residual ‖H w' + b‖ and the step x ← x − α (∇_x f + ∇²_xy g w')), which is the same
/// iteration. `shadowResidual` (one extra Hessian-vector product) is this package's
/// diagnostic.
public struct GALET: BilevelAlgorithm {
  public let name = "galet"
  /// α, the x step.
  public var outerStep: Double
  /// β, the y step.
  public var innerStep: Double
  /// N, the y steps per iteration.
  public var innerIterations: Int
  /// ρ, the w step.
  public var shadowStep: Double
  /// K, the w steps per iteration.
  public var shadowIterations: Int
  /// How Hessian-vector and cross products compose forward and reverse mode.
  public var hvpMode: HVPMode

  public private(set) var x = Tensor(0)
  public private(set) var y = Tensor(0)
  /// w ≈ H⁺ ∇_y f, the shadow implicit-gradient variable.
  public private(set) var w = Tensor(0)
  /// ‖∇²_yy g w − ∇_y f‖ after the last iteration's K steps: does not tend to zero when
  /// the inner Hessian is singular and ∇_y f leaves its range.
  public private(set) var shadowResidual = Double.nan
  /// `shadowResidual` / ‖∇_y f‖ (the residual itself when ∇_y f = 0).
  public private(set) var shadowRelativeResidual = Double.nan

  /// GALET with the given steps.
  ///
  /// - Precondition: the steps are positive and finite, the step counts non-negative.
  public init(
    outerStep: Double = 0.1, innerStep: Double = 0.1, innerIterations: Int = 10, shadowStep: Double = 0.01,
    shadowIterations: Int = 10, hvpMode: HVPMode = .forwardOverReverse
  ) {
    require(
      outerStep > 0 && innerStep > 0 && shadowStep > 0
        && outerStep.isFinite && innerStep.isFinite && shadowStep.isFinite,
      "GALET: step sizes must be positive, got α = \(outerStep), β = \(innerStep), ρ = \(shadowStep)")
    require(
      innerIterations >= 0 && shadowIterations >= 0,
      "GALET: step counts must be non-negative, got N = \(innerIterations), K = \(shadowIterations)")
    self.outerStep = outerStep
    self.innerStep = innerStep
    self.innerIterations = innerIterations
    self.shadowStep = shadowStep
    self.shadowIterations = shadowIterations
    self.hvpMode = hvpMode
  }

  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    self.x = x
    self.y = y
    self.w = Tensor.zeros(y.shape)
    shadowResidual = .nan
    shadowRelativeResidual = .nan
  }

  public mutating func step(oracles: Oracles) -> Tensor {
    for _ in 0..<innerIterations where !oracles.isPastDeadline {
      y = y - innerStep * oracles.innerGradientY(x: x, y: y)
    }
    let (fx, fy) = oracles.outerGradients(x: x, y: y)
    for _ in 0..<shadowIterations where !oracles.isPastDeadline {
      let residual = oracles.hessianVectorProduct(x: x, y: y, v: w, mode: hvpMode) - fy
      w = w - shadowStep * oracles.hessianVectorProduct(x: x, y: y, v: residual, mode: hvpMode)
    }
    shadowResidual = euclideanNorm(oracles.hessianVectorProduct(x: x, y: y, v: w, mode: hvpMode) - fy)
    let fyNorm = euclideanNorm(fy)
    shadowRelativeResidual = fyNorm > 0 ? shadowResidual / fyNorm : shadowResidual
    let direction = fx - oracles.crossProduct(x: x, y: y, v: w, mode: hvpMode)
    x = x - outerStep * direction
    return direction
  }
}
