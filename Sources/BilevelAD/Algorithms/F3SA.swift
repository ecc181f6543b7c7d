import Autodiff

/// F3SA: the fully single-loop, momentum-assisted fully first-order method on the penalty
/// (value-function Lagrangian) formulation, with STORM estimates of all six gradients.
///
/// As in F2SA, z tracks y*(x) = argmin g, y tracks y*_λ(x) = argmin f/λ + g, and
/// ∇_x f(x, y) + λ (∇_x g(x, y) − ∇_x g(x, z)) → ∇F(x) as λ grows (the error is O(1/λ)).
/// Each gradient G of {∇_y g(x, z), ∇_x g(x, z), ∇_y g(x, y), ∇_x g(x, y)} on one inner
/// batch B and {∇_y f(x, y), ∇_x f(x, y)} on one outer batch J is tracked by a recursive
/// estimate on the same batch at the current and previous points:
/// ```
/// D_G ← G(x_k, ·_k) + (1 − η_k)(D_G − G(x_{k−1}, ·_{k−1}))        (D_G = G at k = 0)
/// z ← z − β_k D_{∇_y g(x,z)}
/// y ← y − β_k (D_{∇_y f} / λ_k + D_{∇_y g(x,y)})
/// x ← x − ξ_k (D_{∇_x f} + λ_k (D_{∇_x g(x,y)} − D_{∇_x g(x,z)})),   ξ_k = β_k / (r λ_k)
/// λ_{k+1} = λ_k + δ_k
/// ```
/// One step per variable per iteration (the single loop); all updates use the k-th point
/// (Jacobi). The gradients of g at y and at z share their batch: the parts of ∇_x g that
/// do not depend on the inner variable then cancel exactly in ∇_x g(x, y) − ∇_x g(x, z),
/// whose noise the x direction multiplies by λ (on independent batches that noise grows
/// with λ). The multiplier multiplies the estimates after the recursion, so the
/// estimates stay valid as λ changes. As in this package's F2SA, the y step is taken on
/// f/λ + g, which has the same minimizer as f + λ g and a step that stays stable as λ
/// grows; in the f + λ g parametrization that is the y step α_k = β_k / λ_k, and the x
/// step ξ_k = α_k / r is tied to it. The tie keeps λ_k ξ_k = β_k / r, so that x moves
/// slower than y tracks y*_λ(x) however large λ grows: y's tracking error enters the x
/// direction multiplied by λ_k.
///
/// Oracle calls per iteration after the first: two (∇_x f, ∇_y f) pairs on J and four
/// (∇_x g, ∇_y g) pairs on B (at (x, y), (x, z) and the previous two points), each pair
/// from one reverse pass; the first iteration makes half of them.
///
/// Sources: `seeds/000_c49b68d03854275a.txt`, slide "Convergence Results of BLO Methods",
/// table "Momentum-Based and VR-Based BLO", row "F³SA [Kwon et al. 23] | VF | Single |
/// O(ε^{-2.5}) | O(ε^{-2.5})": a value-function (penalty) method in a single loop, one step
/// per variable as above. The steps are those of the box "Algorithm F²SA" of
/// `seeds/002_7c17d9d962bd5573.txt` with T = 1 and the recursive estimates D_G in place of
/// its h's: line 5's z and y steps (γ_k = β_k; α_k = β_k / λ_k on f + λ_k g), line 8's
/// x_{k+1} = x_k − ξ α_k (h_fx + λ_k (h_gxy − h_gxz)) with ξ = 1/r (the tie ξ_k = α_k / r
/// above), and line 9's λ_{k+1} = λ_k + δ_k.
///
/// References: J. Kwon, D. Kwon, S. Wright and R. Nowak, "A fully first-order method for
/// stochastic bilevel optimization", ICML 2023 (arXiv:2301.10945). Its abstract gives
/// ε^{-5/2} iterations of O(1) samples for the momentum-assisted variant of F2SA with noise
/// in both levels, the seed's count for F³SA (and ε^{-7/2} for F2SA, the seed's count for
/// F²SA). Its appendix, read in a public TeX source, defines the recursive directions
/// h̃_z^k = ∇_y g(x_k, z_k; φ_z^k) + (1 − η_k)(h̃_z^{k−1} − ∇_y g(x_{k−1}, z_{k−1}; φ_z^k)),
/// and likewise for ∇_y f and ∇_y g at y, each on its own samples; the x directions are
/// built the same way here. The same authors' "On penalty methods for nonconvex bilevel
/// optimization and first-order stochastic approximation", ICLR 2024 (arXiv:2309.01753;
/// reference [8] of `seeds/001_71a07ee1a5f6e715.txt`, "Prox-F²BA") extends the method to
/// nonconvex lower levels and, by its abstract, runs it in a fully single loop with O(1)
/// samples per iteration. Not stated in the seeds, and chosen by this package: the shared
/// inner batch, the step-size schedules and the defaults β_k = 0.1 constant, r = 1,
/// η_k = 1/√(k+1), λ₀ = 1, δ_k = 1/√(k+1) (λ_k ≈ 2 √k).
public struct F3SA: StochasticAlgorithm {
  /// "f3sa".
  public let name = "f3sa"
  /// β_k, the step of z and of y (on f/λ + g).
  public var innerStep: StepSchedule
  /// r: the x step is ξ_k = β_k / (r λ_k).
  public var outerRatio: Double
  /// η_k, the momentum weight of the recursive estimates (1 − η_k keeps the past).
  public var momentum: StepSchedule
  /// λ₀.
  public var initialMultiplier: Double
  /// δ_k.
  public var multiplierIncrement: StepSchedule
  /// Mini-batches and seed.
  public var settings: StochasticSettings

  /// x, y, t, the samplers and the generator.
  var state = StochasticIterate()

  /// The inner variable z ≈ y*(x).
  public private(set) var z = Tensor(0)
  /// λ_k.
  public private(set) var multiplier = 1.0
  private var previous: (x: Tensor, y: Tensor, z: Tensor)?
  private var estimates: Estimates?

  /// The six recursive gradient estimates.
  private struct Estimates {
    var outerX, outerY, innerXAtY, innerYAtY, innerXAtZ, innerYAtZ: Tensor
  }

  /// F3SA with single-loop defaults: β_k = 0.1, r = 1, η_k = 1/√(k+1), λ₀ = 1,
  /// δ_k = 1/√(k+1), batches of 64.
  ///
  /// - Parameters:
  ///   - innerStep: β_k.
  ///   - outerRatio: r, positive.
  ///   - momentum: η_k, in (0, 1].
  ///   - initialMultiplier: λ₀, positive.
  ///   - multiplierIncrement: δ_k, non-negative.
  ///   - settings: batch size, sampling scheme, seed.
  /// - Precondition: r > 0 and λ₀ > 0.
  public init(
    innerStep: StepSchedule = .constant(0.1), outerRatio: Double = 1,
    momentum: StepSchedule = .decreasing(1, exponent: 0.5), initialMultiplier: Double = 1,
    multiplierIncrement: StepSchedule = .decreasing(1, exponent: 0.5),
    settings: StochasticSettings = StochasticSettings()
  ) {
    require(outerRatio > 0, "F3SA: outerRatio must be positive, got \(outerRatio)")
    require(initialMultiplier > 0, "F3SA: initialMultiplier must be positive, got \(initialMultiplier)")
    self.innerStep = innerStep
    self.outerRatio = outerRatio
    self.momentum = momentum
    self.initialMultiplier = initialMultiplier
    self.multiplierIncrement = multiplierIncrement
    self.settings = settings
  }

  /// Sets x to x0 and both y and z to y0, λ to λ₀, forgets the estimates and the previous
  /// point, and restarts the samplers and the schedules.
  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    state = StochasticIterate(x: x, y: y, oracles: oracles, settings: settings)
    self.z = y
    multiplier = initialMultiplier
    previous = nil
    estimates = nil
  }

  /// Updates the six recursive estimates on shared batches, then steps z, y and x and
  /// raises λ.
  public mutating func step(oracles: Oracles) -> Tensor {
    let outerBatch = state.outerBatch()
    let innerBatch = state.innerBatch()
    let outer = oracles.outerGradients(x: x, y: y, batch: outerBatch)
    let innerAtY = oracles.innerGradients(x: x, y: y, batch: innerBatch)
    let innerAtZ = oracles.innerGradients(x: x, y: z, batch: innerBatch)
    var current = Estimates(
      outerX: outer.x, outerY: outer.y, innerXAtY: innerAtY.x, innerYAtY: innerAtY.y, innerXAtZ: innerAtZ.x,
      innerYAtZ: innerAtZ.y)
    if let old = previous, let past = estimates {
      let keep = 1 - momentum.value(at: state.t)
      let oldOuter = oracles.outerGradients(x: old.x, y: old.y, batch: outerBatch)
      let oldInnerAtY = oracles.innerGradients(x: old.x, y: old.y, batch: innerBatch)
      let oldInnerAtZ = oracles.innerGradients(x: old.x, y: old.z, batch: innerBatch)
      current.outerX = current.outerX + keep * (past.outerX - oldOuter.x)
      current.outerY = current.outerY + keep * (past.outerY - oldOuter.y)
      current.innerXAtY = current.innerXAtY + keep * (past.innerXAtY - oldInnerAtY.x)
      current.innerYAtY = current.innerYAtY + keep * (past.innerYAtY - oldInnerAtY.y)
      current.innerXAtZ = current.innerXAtZ + keep * (past.innerXAtZ - oldInnerAtZ.x)
      current.innerYAtZ = current.innerYAtZ + keep * (past.innerYAtZ - oldInnerAtZ.y)
    }
    estimates = current
    previous = (x, y, z)
    let direction = current.outerX + multiplier * (current.innerXAtY - current.innerXAtZ)
    let beta = innerStep.value(at: state.t)
    z = z - beta * current.innerYAtZ
    state.y = y - beta * (current.outerY / multiplier + current.innerYAtY)
    state.x = x - (beta / (outerRatio * multiplier)) * direction
    multiplier += multiplierIncrement.value(at: state.t)
    state.t += 1
    return direction
  }
}
