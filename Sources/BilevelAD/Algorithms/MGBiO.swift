import Autodiff

/// MGBiO: momentum-based gradient method for nonconvex-PL bilevel problems, with the inner
/// Hessian's spectrum projected onto [μ, L_g] before it is inverted.
///
/// Transcribed from `seeds/001_71a07ee1a5f6e715.txt` (F. Huang, "Optimal
/// Hessian/Jacobian-free nonconvex-PL bilevel optimization", slides), box "Algorithm 1
/// MGBiO Algorithm", lines 3 to 7; every oracle is taken at (x_t, y_t):
/// ```
/// 3: v_t = ∇_y g(x_t, y_t),  u_t = ∇_x f(x_t, y_t),  h_t = ∇_y f(x_t, y_t),  G_t = ∇²_xy g(x_t, y_t)
/// 4: H_t = S_[μ, L_g][∇²_yy g(x_t, y_t)] = U_t Θ_t U_tᵀ,  θ_{t,i} ∈ [μ, L_g]
/// 5: w_t = u_t − G_t H_t⁻¹ h_t = ∇_x f(x_t, y_t) − G_t Σ_i (U_{t,i}ᵀ h_t / θ_{t,i}) U_{t,i}
/// 6: x̃_{t+1} = argmin_{x ∈ X} ⟨w_t, x⟩ + ‖x − x_t‖² / 2γ  (= Proj_X(x_t − γ w_t)),
///    x_{t+1} = x_t + η_t (x̃_{t+1} − x_t)
/// 7: ỹ_{t+1} = y_t − λ v_t,  y_{t+1} = y_t + η_t (ỹ_{t+1} − y_t)
/// ```
/// S_[μ, L_g] projects the symmetric Hessian onto the matrices with spectrum in [μ, L_g]:
/// it clips the eigenvalues of a Jacobi eigendecomposition. The box's output (an iterate
/// chosen uniformly at random) is the analysis's device; the driver reports the last one.
/// G_t H_t⁻¹ h_t is one cross product ∇²_xy g · (H_t⁻¹ h_t), so G_t is never formed. The
/// slides give no values for γ, λ, η_t; the defaults are the experiments' basic rate
/// scaled for the package's tasks (γ = λ = 0.1) and a constant η = 0.5.
///
/// It materializes ∇²_yy g (dim y Hessian-vector products) and costs O(dim y³) arithmetic
/// per iteration, so it refuses inner variables above `maxInnerDimension`. On a problem
/// over structures it runs over the flat scalars of y (see `BilevelProblem+Structures`).
///
/// References: F. Huang, "On momentum-based gradient methods for bilevel optimization
/// with nonconvex lower-level", arXiv:2303.03944, 2023.
public struct MGBiO: BilevelAlgorithm {
  /// "mgbio".
  public let name = "mgbio"
  /// λ, the step of y.
  public var innerStep: Double
  /// γ, the proximal step of x.
  public var outerStep: Double
  /// η_t ∈ (0, 1], the averaging weight of both updates (line 6 and 7).
  public var averaging: StepSchedule
  /// [μ, L_g], the interval the Hessian's eigenvalues are projected onto.
  public var spectrum: ClosedRange<Double>
  /// X, the set of the proximal step.
  public var constraint: ConstraintSet
  /// The largest dim y accepted.
  public var maxInnerDimension: Int

  /// The current outer iterate x_t.
  public private(set) var x = Tensor(0)
  /// The current inner iterate y_t.
  public private(set) var y = Tensor(0)
  private var t = 0

  /// MGBiO with the given steps.
  ///
  /// - Parameters:
  ///   - innerStep: λ.
  ///   - outerStep: γ.
  ///   - averaging: η_t, each in (0, 1].
  ///   - spectrum: [μ, L_g], μ > 0.
  ///   - constraint: X.
  ///   - maxInnerDimension: the largest dim y accepted.
  public init(
    innerStep: Double = 0.1, outerStep: Double = 0.1, averaging: StepSchedule = .constant(0.5),
    spectrum: ClosedRange<Double> = 0.1...10, constraint: ConstraintSet = .unconstrained, maxInnerDimension: Int = 500
  ) {
    require(innerStep > 0 && outerStep > 0, "MGBiO: the steps λ and γ must be positive")
    require(spectrum.lowerBound > 0, "MGBiO: the spectrum's lower bound μ must be positive, got \(spectrum.lowerBound)")
    self.innerStep = innerStep
    self.outerStep = outerStep
    self.averaging = averaging
    self.spectrum = spectrum
    self.constraint = constraint
    self.maxInnerDimension = maxInnerDimension
  }

  /// Sets x_1 = Proj_X(x0), y_1 = y0, t = 1.
  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    require(
      y.scalarCount <= maxInnerDimension,
      "MGBiO: the inner variable has \(y.scalarCount) entries, above maxInnerDimension \(maxInnerDimension) (it forms and decomposes the Hessian)"
    )
    self.x = constraint.project(x)
    self.y = y
    t = 0
  }

  /// Lines 3 to 7 of the box.
  public mutating func step(oracles: Oracles) -> Tensor {
    let eta = averaging.value(at: t)
    require(eta > 0 && eta <= 1, "MGBiO: the averaging weight η_t must lie in (0, 1], got \(eta) at t = \(t)")
    // Line 3 (G_t enters through one cross product below).
    let v = oracles.innerGradientY(x: x, y: y)
    let (u, h) = oracles.outerGradients(x: x, y: y)
    // Line 4: H_t = U_t Θ_t U_tᵀ with θ_{t,i} = clip(eigenvalue_i, μ, L_g).
    let n = y.scalarCount
    let (values, vectors) = DenseFactorizations.symmetricEigen(oracles.innerHessian(x: x, y: y).scalars, n: n)
    // Line 5: H_t⁻¹ h_t = Σ_i (U_{t,i}ᵀ h_t / θ_{t,i}) U_{t,i}.
    let b = h.scalars
    var inverseH = [Double](repeating: 0, count: n)
    for i in 0..<n {
      var coefficient = 0.0
      for k in 0..<n { coefficient += vectors[k * n + i] * b[k] }
      coefficient /= min(max(values[i], spectrum.lowerBound), spectrum.upperBound)
      for k in 0..<n { inverseH[k] += coefficient * vectors[k * n + i] }
    }
    let w = u - oracles.crossProduct(x: x, y: y, v: Tensor(shape: y.shape, scalars: inverseH))
    // Line 6.
    let proximal = constraint.project(x - outerStep * w)
    let nextX = x + eta * (proximal - x)
    // Line 7.
    let candidateY = y - innerStep * v
    y = y + eta * (candidateY - y)
    x = nextX
    t += 1
    return w
  }
}
