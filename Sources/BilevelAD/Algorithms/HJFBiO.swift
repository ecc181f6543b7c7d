import Autodiff

/// HJFBiO: a single-loop, Hessian/Jacobian-free method for nonconvex-PL bilevel problems.
///
/// One iteration over (x, y, v), with central finite-difference products
/// H̃_δ(v) = (∇_y g(x, y + δv) − ∇_y g(x, y − δv)) / 2δ and
/// J̃_δ(v) = (∇_x g(x, y + δv) − ∇_x g(x, y − δv)) / 2δ:
/// ```
/// y ← y − λ ∇_y g(x, y)
/// v ← P_{r_v}( v − τ ( M_{r_h}(H̃_δ(v)) − ∇_y f(x, y) ) )       v ≈ [∇²_yy g]⁻¹ ∇_y f
/// w = ∇_x f(x, y) − J̃_δ(v)                                      w ≈ ∇F(x)
/// x̃ = prox_{γ h}(x − γ w) = Proj_C(x − γ w);   x ← x + η (x̃ − x)
/// ```
/// P_{r_v} projects onto the ball ‖v‖ ≤ r_v; M_{r_h} rescales the Hessian-vector estimate
/// to norm at most r_h, a vector-level stand-in for bounding the Hessian's spectrum that
/// keeps the cost per iteration O(dim x + dim y). Only gradient oracles are used: per
/// iteration one ∇_y g, two more for H̃, two ∇_x g for J̃, one ∇f.
///
/// References: F. Huang, "Optimal Hessian/Jacobian-free nonconvex-PL bilevel
/// optimization", ICML 2024 (arXiv:2407.17823). The paper's Algorithm 1 could not be
/// consulted here (only its abstract); the structure above follows the abstract's
/// description (finite-difference estimators, vector-level projections, proximal step)
/// and the author's MGBiO, and the exact step-size rules of the paper may differ.
public struct HJFBiO: BilevelAlgorithm {
  public let name = "hjfbio"
  /// λ, the y step.
  public var innerStep: Double
  /// τ, the v step.
  public var linearSystemStep: Double
  /// γ, the x step.
  public var outerStep: Double
  /// η ∈ (0, 1], the averaging of x.
  public var averaging: Double
  /// δ, the finite-difference step.
  public var finiteDifferenceStep: Double
  /// r_v, the radius of v's ball.
  public var linearSystemRadius: Double
  /// r_h, the bound on ‖H̃_δ(v)‖.
  public var hessianVectorRadius: Double
  /// C, the set of the proximal step.
  public var constraint: ConstraintSet

  public private(set) var x = Tensor(0)
  public private(set) var y = Tensor(0)
  public private(set) var v = Tensor(0)

  /// HJFBiO with the given steps.
  public init(
    innerStep: Double = 0.1, linearSystemStep: Double = 0.1, outerStep: Double = 0.1, averaging: Double = 1,
    finiteDifferenceStep: Double = 1e-5, linearSystemRadius: Double = 1e3, hessianVectorRadius: Double = 1e6,
    constraint: ConstraintSet = .unconstrained
  ) {
    require(averaging > 0 && averaging <= 1, "HJFBiO: averaging must lie in (0, 1], got \(averaging)")
    require(finiteDifferenceStep > 0 && linearSystemRadius > 0 && hessianVectorRadius > 0, "HJFBiO: invalid parameters")
    self.innerStep = innerStep
    self.linearSystemStep = linearSystemStep
    self.outerStep = outerStep
    self.averaging = averaging
    self.finiteDifferenceStep = finiteDifferenceStep
    self.linearSystemRadius = linearSystemRadius
    self.hessianVectorRadius = hessianVectorRadius
    self.constraint = constraint
  }

  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    self.x = constraint.project(x)
    self.y = y
    self.v = Tensor.zeros(y.shape)
  }

  /// The finite-difference step along v, scaled so that the perturbation has norm δ.
  private func step(along v: Tensor) -> Double {
    let norm = euclideanNorm(v)
    return norm > 0 ? finiteDifferenceStep / norm : finiteDifferenceStep
  }

  public mutating func step(oracles: Oracles) -> Tensor {
    y = y - innerStep * oracles.innerGradientY(x: x, y: y)
    let (fx, fy) = oracles.outerGradients(x: x, y: y)
    var hessianVector =
      euclideanNorm(v) > 0
      ? oracles.finiteDifferenceHessianVectorProduct(x: x, y: y, v: v, step: step(along: v)) : Tensor.zeros(y.shape)
    hessianVector = ConstraintSet.ball(radius: hessianVectorRadius).project(hessianVector)
    v = ConstraintSet.ball(radius: linearSystemRadius).project(v - linearSystemStep * (hessianVector - fy))
    let cross =
      euclideanNorm(v) > 0
      ? oracles.finiteDifferenceCrossProduct(x: x, y: y, v: v, step: step(along: v)) : Tensor.zeros(x.shape)
    let w = fx - cross
    let candidate = constraint.project(x - outerStep * w)
    x = x + averaging * (candidate - x)
    return w
  }
}
