import Autodiff

/// SBFW: stochastic bilevel Frank-Wolfe, projection-free steps on x over a bounded convex
/// set with a momentum (STORM-type) estimate of the hypergradient.
///
/// Each iteration t, on inner batch B (the y step), outer batch J, p inner batches B_q
/// (the Neumann products) and inner batch B' (the cross products), the last three shared
/// by the current point (x_t, y_t) and the previous point (x_{t−1}, y_{t−1}):
/// ```
/// p ~ Uniform{0, …, N − 1}
/// w  = N η Π_{q≤p} (I − η ∇²_yy g_{B_q}(x_t, y_t)) ∇_y f_J(x_t, y_t)      (w⁻ likewise)
/// h  = ∇_x f_J(x_t, y_t) − ∇²_xy g_{B'}(x_t, y_t) w                       E h ≈ ∇F(x_t)
/// d_t = h + (1 − ρ_t)(d_{t−1} − h⁻)          (h⁻ at (x_{t−1}, y_{t−1});  d_0 = h)
/// s_t = argmin_{s ∈ C} ⟨d_t, s⟩              (the linear minimization oracle)
/// x_{t+1} = x_t + η_t (s_t − x_t),   η_t ≤ 1
/// y_{t+1} = y_t − β_t ∇_y g_B(x_t, y_t)
/// ```
/// Every iterate is a convex combination of points of C, so it stays feasible without a
/// projection (x₀ is projected onto C once, by `start`). The momentum d_t averages the
/// noise of the stochastic hypergradient, which a Frank-Wolfe step, unlike a gradient
/// step, does not damp by a small step size. Defaults: η_t = 1/(t+1)^{3/4},
/// ρ_t = 1/√(t+1), β_t = 0.1/√(t+1); η_t is clamped to 1.
///
/// Oracle calls per iteration after the first: one ∇_y g on B, 2p Hessian-vector products
/// on p batches, two cross products on B', two ∇f (∇_x f and ∇_y f) on J, and one linear
/// minimization; the first iteration makes one ∇_y g, p products, one cross product and
/// one ∇f.
///
/// - Precondition: the constraint set is bounded (not `.unconstrained`).
///
/// Sources: `seeds/000_c49b68d03854275a.txt`, slide "Convergence Results of BLO Methods",
/// table "Momentum-Based and VR-Based BLO", row "SBFW [Akhtar et al. '21] M. | IF | Single |
/// O(ε⁻⁴) | O(ε⁻⁴)": a momentum (M.) method with an implicit-function hypergradient in a
/// single loop, as above. w is the note's "Approach 3: The Neumann-series approximation
/// approach" (slide "Approaches to Approximate H⁻¹g"), with η = 1 / L_g, N = K and
/// Ghadimi and Wang's prefactor N η = K / L_g where the note writes k / L_g (k the drawn
/// depth).
///
/// References: Z. Akhtar, A. S. Bedi, S. T. Thomdapu and K. Rajawat, "Projection-free
/// stochastic bi-level optimization", IEEE Trans. Signal Process. 70, 2022
/// (arXiv:2110.11721). The recursion follows its abstract (arXiv listing): Frank-Wolfe
/// steps, usable on streams without large batches or checkpoints, O(ε⁻⁴) samples for a
/// nonconvex objective (the seed's count) and O(ε⁻³) for a convex one. Not stated in the
/// seeds or in the abstract, and chosen by this package: the STORM form of d_t, the
/// Jacobi order (x moves along the direction at (x_t, y_t) while y steps at x_t), and the
/// exponents of η_t, ρ_t and β_t.
public struct SBFW: StochasticAlgorithm {
  /// "sbfw".
  public let name = "sbfw"
  /// β_t, the step of y.
  public var innerStep: StepSchedule
  /// η_t, the Frank-Wolfe step of x (clamped to 1).
  public var outerStep: StepSchedule
  /// ρ_t, the momentum weight of the hypergradient estimate (1 − ρ_t keeps the past).
  public var momentum: StepSchedule
  /// η, the step of the Neumann estimate.
  public var neumannStep: StepSchedule
  /// N, the truncation bound of the Neumann estimate.
  public var neumannTerms: Int
  /// C, the bounded set x lives in.
  public var constraint: ConstraintSet
  /// The step's form: the paper's, or pairwise (simplex only).
  public var variant: FrankWolfeVariant
  /// L, when known: the step becomes γ = min(η_t, ⟨d, a − s⟩ / (L ‖a − s‖²)) (the
  /// short step of Demyanov and Rubinov; a = x for the standard step, the away vertex for
  /// the pairwise one), which stops the iterate overshooting where η_t is still large.
  public var smoothness: Double?
  /// Mini-batches and seed (which also seeds the truncation depths).
  public var settings: StochasticSettings

  /// x, y, t, the samplers and the generator.
  var state = StochasticIterate()

  private var previous: (x: Tensor, y: Tensor)?
  private var direction: Tensor?

  /// SBFW over `constraint` with the defaults η_t = 1/(t+1)^{3/4}, ρ_t = 1/√(t+1),
  /// β_t = 0.1/√(t+1), constant Neumann step 0.1, N = 10, batches of 64.
  ///
  /// - Parameters:
  ///   - constraint: C, bounded.
  ///   - innerStep: β_t.
  ///   - outerStep: η_t.
  ///   - momentum: ρ_t, in (0, 1].
  ///   - neumannStep: η.
  ///   - neumannTerms: N.
  ///   - variant: `.standard` (the paper's) or `.pairwise` (simplex only).
  ///   - smoothness: L of the hypergradient, to cap the step by the short step; nil for
  ///     the schedule alone.
  ///   - settings: batch size, sampling scheme, seed.
  /// - Precondition: C is bounded, N ≥ 1, L > 0 when given, and C is the simplex for
  ///   `.pairwise`.
  public init(
    constraint: ConstraintSet, innerStep: StepSchedule = .decreasing(0.1, exponent: 0.5),
    outerStep: StepSchedule = .decreasing(1, exponent: 0.75),
    momentum: StepSchedule = .decreasing(1, exponent: 0.5),
    neumannStep: StepSchedule = .constant(0.1), neumannTerms: Int = 10, variant: FrankWolfeVariant = .standard,
    smoothness: Double? = nil, settings: StochasticSettings = StochasticSettings()
  ) {
    require(constraint != .unconstrained, "SBFW: Frank-Wolfe needs a bounded constraint set, got .unconstrained")
    require(neumannTerms >= 1, "SBFW: neumannTerms must be positive, got \(neumannTerms)")
    require(
      variant == .standard || constraint == .simplex, "SBFW: the pairwise step needs the simplex, got \(constraint)")
    require(smoothness.map { $0 > 0 && $0.isFinite } ?? true, "SBFW: smoothness must be positive and finite")
    self.variant = variant
    self.smoothness = smoothness
    self.constraint = constraint
    self.innerStep = innerStep
    self.outerStep = outerStep
    self.momentum = momentum
    self.neumannStep = neumannStep
    self.neumannTerms = neumannTerms
    self.settings = settings
  }

  /// Sets x to the projection of x0 onto C and y to y0, forgets the previous point and the
  /// direction, and restarts the samplers, the truncation draws and the schedules.
  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    state = StochasticIterate(x: x, y: y, oracles: oracles, settings: settings)
    state.x = constraint.project(x)
    previous = nil
    direction = nil
  }

  /// The momentum hypergradient on shared samples, one Frank-Wolfe step on x and one SGD
  /// step on y.
  public mutating func step(oracles: Oracles) -> Tensor {
    let gradientY = oracles.innerGradientY(x: x, y: y, batch: state.innerBatch())
    let outerBatch = state.outerBatch()
    let eta = neumannStep.value(at: state.t)
    let (outerX, outerY) = oracles.outerGradients(x: x, y: y, batch: outerBatch)
    if let old = previous, let d = direction {
      let (oldOuterX, oldOuterY) = oracles.outerGradients(x: old.x, y: old.y, batch: outerBatch)
      let (w, oldW) = state.jointRandomizedNeumannSeries(
        oracles: oracles, x: x, y: y, rightHandSide: outerY, previousX: old.x, previousY: old.y,
        previousRightHandSide: oldOuterY, step: eta, terms: neumannTerms, truncation: settings.neumannTruncation
      )
      let crossBatch = state.innerBatch()
      let h = outerX - oracles.crossProduct(x: x, y: y, v: w, batch: crossBatch)
      let oldH = oldOuterX - oracles.crossProduct(x: old.x, y: old.y, v: oldW, batch: crossBatch)
      direction = h + (1 - momentum.value(at: state.t)) * (d - oldH)
    } else {
      let w = state.randomizedNeumannSeries(
        oracles: oracles, x: x, y: y, rightHandSide: outerY, step: eta, terms: neumannTerms,
        truncation: settings.neumannTruncation
      )
      direction = outerX - oracles.crossProduct(x: x, y: y, v: w, batch: state.innerBatch())
    }
    let d = direction!
    let vertex = constraint.linearMinimizer(d)
    let scheduled = Swift.min(Swift.max(outerStep.value(at: state.t), 0), 1)
    previous = (x, y)
    switch variant {
    case .standard:
      state.x = x + shortened(scheduled, direction: d, from: x, to: vertex) * (vertex - x)
    case .pairwise:
      state.x = pairwiseStep(scheduled, direction: d, to: vertex)
    }
    state.y = y - innerStep.value(at: state.t) * gradientY
    state.t += 1
    return d
  }

  /// γ capped by the short step ⟨d, a − s⟩ / (L ‖a − s‖²) when L is known.
  private func shortened(_ gamma: Double, direction d: Tensor, from a: Tensor, to s: Tensor) -> Double {
    guard let smoothness else { return gamma }
    let move = a - s
    let length = dot(move, move).scalar
    guard length > 0 else { return 0 }
    return Swift.min(gamma, Swift.max(dot(d, move).scalar, 0) / (smoothness * length))
  }

  /// One pairwise step on the simplex: weight γ ≤ x_j moves from the away vertex e_j to
  /// the Frank-Wolfe vertex s = e_i.
  private func pairwiseStep(_ gamma: Double, direction d: Tensor, to vertex: Tensor) -> Tensor {
    var weights = x.scalars
    let gradient = d.scalars
    guard let i = vertex.scalars.firstIndex(of: 1),
      let j = weights.indices.filter({ weights[$0] > 0 }).max(by: { gradient[$0] < gradient[$1] }), i != j
    else { return x }
    var away = [Double](repeating: 0, count: weights.count)
    away[j] = 1
    let step = Swift.min(
      shortened(gamma, direction: d, from: Tensor(shape: x.shape, scalars: away), to: vertex), weights[j])
    weights[i] += step
    weights[j] -= step
    if weights[j] < 1e-15 {  // a drop step: the away vertex leaves the support, its crumb with it
      weights[i] += weights[j]
      weights[j] = 0
    }
    return Tensor(shape: x.shape, scalars: weights)
  }

  /// The Frank-Wolfe gap max_{s ∈ C} ⟨g, x − s⟩ of a gradient g at a feasible x: zero
  /// exactly at the stationary points of the constrained problem, an upper bound on
  /// F(x) − min_C F when F is convex.
  ///
  /// - Parameters:
  ///   - gradient: g, usually the exact ∇F(x).
  ///   - x: a point of C.
  /// - Returns: ⟨g, x − argmin_{s ∈ C} ⟨g, s⟩⟩ ≥ 0.
  public func frankWolfeGap(gradient: Tensor, at x: Tensor) -> Double {
    dot(gradient, x - constraint.linearMinimizer(gradient)).scalar
  }
}

/// How SBFW moves x toward the linear minimizer.
public enum FrankWolfeVariant: String, Sendable, Equatable, CaseIterable {
  /// x ← x + γ (s − x), the paper's step.
  case standard
  /// For the simplex: x ← x + γ (e_i − e_j) with i = argmin_k d_k (the Frank-Wolfe
  /// vertex), j = argmax of d_k over the support of x (the away vertex) and γ ≤ x_j
  /// (Lacoste-Julien and Jaggi, "On the global linear convergence of Frank-Wolfe
  /// optimization variants", NeurIPS 2015). Weight leaves the worst active vertex, so the
  /// weights of an optimum on a face reach 0 in finitely many steps instead of decaying
  /// like Π(1 − γ_t), which is what makes the standard step zigzag near such optima.
  case pairwise
}
