import Autodiff

/// HJFBiO: a single-loop, Hessian/Jacobian-free method for nonconvex-PL bilevel problems.
///
/// Transcribed from `seeds/001_71a07ee1a5f6e715.txt` (F. Huang, "Optimal
/// Hessian/Jacobian-free nonconvex-PL bilevel optimization", ICML 2024, slides), box
/// "Algorithm 1 Hessian/Jacobian-free Bilevel Optimization (i.e, HJFBiO) Algorithm",
/// lines 3 to 5, with Definition 3 and the two finite-difference estimators; every
/// oracle is taken at (x_t, y_t, v_t):
/// ```
/// 3: u_t = ∇_y g(x_t, y_t),  y_{t+1} = y_t − λ u_t
/// 4: w_t = ∇_x f(x_t, y_t) − J̃(x_t, y_t, v_t, δ_ε),  x_{t+1} = P^γ_φ(x_t, w_t)
/// 5: h_t = M_{r_h}(H̃(x_t, y_t, v_t, δ_ε)) − ∇_y f(x_t, y_t),  v_{t+1} = P_{r_v}(v_t − τ h_t)
///
/// J̃(x, y, v, δ_ε) = (∇_x g(x, y + δ_ε v) − ∇_x g(x, y − δ_ε v)) / 2δ_ε   → ∇²_xy g(x, y) v
/// H̃(x, y, v, δ_ε) = (∇_y g(x, y + δ_ε v) − ∇_y g(x, y − δ_ε v)) / 2δ_ε   → ∇²_yy g(x, y) v
/// P^γ_φ(x_t, w_t) = argmin_x ⟨w_t, x⟩ + ‖x − x_t‖² / 2γ + φ(x) = Proj_X(x_t − γ w_t)
///     (φ the indicator of X, the slides' example)
/// P_{r_v}(v) = the projection onto {‖v‖ ≤ r_v}
/// M_{r_h}(H̃) = the projection of the vector H̃ onto {‖H̃‖ ≤ r_h}, 0 < r_h ≤ r_v L_g
/// ```
/// Definition 3 defines M_{r_h}(H, v) = S_[μ, L_g][H] P_{r_v}(v) on the set ‖Hv‖ ≤ r_h
/// and then writes M_{r_h}(H, v) = M_{r_h}(Hv); only the vector H̃ is available to a
/// Hessian-free method, so M_{r_h} acts on it as the projection onto the r_h-ball, as the
/// notation M_{r_h}(H̃(x_t, y_t, v_t, δ_ε)) in line 5 reads. The perturbation is δ_ε v_t
/// itself, as written (not normalized by ‖v_t‖). The box's output (a uniformly random
/// iterate) is the analysis's device; the driver reports the last one.
///
/// Oracle calls per iteration: ∇_y g three times (u_t and H̃), ∇_x g twice (J̃) and ∇f
/// once; no Hessian or Jacobian product.
///
/// References: F. Huang, "Optimal Hessian/Jacobian-free nonconvex-PL bilevel
/// optimization", ICML 2024 (arXiv:2407.17823).
public struct HJFBiO: BilevelAlgorithm {
  /// "hjfbio".
  public let name = "hjfbio"
  /// λ, the y step.
  public var innerStep: Double
  /// τ, the v step.
  public var linearSystemStep: Double
  /// γ, the proximal step of x.
  public var outerStep: Double
  /// δ_ε, the finite-difference step.
  public var finiteDifferenceStep: Double
  /// r_v, the radius of v's ball.
  public var linearSystemRadius: Double
  /// r_h, the radius of the ball M_{r_h} projects the Hessian-vector estimate onto.
  public var hessianVectorRadius: Double
  /// X, the set of the proximal step (φ its indicator).
  public var constraint: ConstraintSet

  /// The current outer iterate x_t.
  public private(set) var x = Tensor(0)
  /// The current inner iterate y_t.
  public private(set) var y = Tensor(0)
  /// v_t ≈ [∇²_yy g]⁻¹ ∇_y f.
  public private(set) var v = Tensor(0)

  /// HJFBiO with the given steps. The defaults satisfy the box's 0 < r_h ≤ r_v L_g for
  /// any L_g ≥ 1 (r_v = r_h = 1000); give r_h ≤ r_v L_g for a smaller L_g.
  ///
  /// - Parameters:
  ///   - innerStep: λ.
  ///   - linearSystemStep: τ.
  ///   - outerStep: γ.
  ///   - finiteDifferenceStep: δ_ε.
  ///   - linearSystemRadius: r_v.
  ///   - hessianVectorRadius: r_h.
  ///   - constraint: X.
  public init(
    innerStep: Double = 0.1, linearSystemStep: Double = 0.1, outerStep: Double = 0.1,
    finiteDifferenceStep: Double = 1e-5,
    linearSystemRadius: Double = 1e3, hessianVectorRadius: Double = 1e3, constraint: ConstraintSet = .unconstrained
  ) {
    require(
      innerStep > 0 && linearSystemStep > 0 && outerStep > 0, "HJFBiO: the steps λ, τ and γ must be positive")
    require(
      finiteDifferenceStep > 0 && linearSystemRadius > 0 && hessianVectorRadius > 0,
      "HJFBiO: δ_ε, r_v and r_h must be positive (got \(finiteDifferenceStep), \(linearSystemRadius), \(hessianVectorRadius))"
    )
    self.innerStep = innerStep
    self.linearSystemStep = linearSystemStep
    self.outerStep = outerStep
    self.finiteDifferenceStep = finiteDifferenceStep
    self.linearSystemRadius = linearSystemRadius
    self.hessianVectorRadius = hessianVectorRadius
    self.constraint = constraint
  }

  /// Sets x_1 = Proj_X(x0), y_1 = y0 and v_1 = 0.
  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    self.x = constraint.project(x)
    self.y = y
    self.v = Tensor.zeros(y.shape)
  }

  /// Lines 3 to 5 of the box, all at (x_t, y_t, v_t).
  public mutating func step(oracles: Oracles) -> Tensor {
    let delta = finiteDifferenceStep
    // Line 3.
    let u = oracles.innerGradientY(x: x, y: y)
    // Line 4.
    let (fx, fy) = oracles.outerGradients(x: x, y: y)
    let w = fx - oracles.finiteDifferenceCrossProduct(x: x, y: y, v: v, step: delta)
    // Line 5.
    let hessianVector = oracles.finiteDifferenceHessianVectorProduct(x: x, y: y, v: v, step: delta)
    let h = ConstraintSet.ball(radius: hessianVectorRadius).project(hessianVector) - fy
    let nextV = ConstraintSet.ball(radius: linearSystemRadius).project(v - linearSystemStep * h)
    y = y - innerStep * u
    x = constraint.project(x - outerStep * w)
    v = nextV
    return w
  }
}
