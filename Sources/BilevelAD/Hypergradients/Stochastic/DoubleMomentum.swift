import Autodiff

/// Which stochastic Neumann estimate of [∇²_yy g]⁻¹ b a method uses.
enum NeumannEstimate {
  /// stocBiO's series η Σ_{q≤Q} Π_{k≤q} (I − η H_k) b (MRBO).
  case series
  /// Ghadimi and Wang's randomized truncation N η Π_{k≤p} (I − η H_k) b (SUSTAIN).
  case randomized
}

/// The loop MRBO and SUSTAIN share: STORM-type recursive estimators of ∇_y g and of the
/// Neumann hypergradient, evaluated on the same samples at the current and the previous
/// iterate; the two methods differ only in the Neumann estimate.
///
/// ```
/// D_y ← ∇_y g_B(x, y) + (1 − α_t)(D_y − ∇_y g_B(x⁻, y⁻))
/// D_x ← h(x, y) + (1 − α_t)(D_x − h(x⁻, y⁻)),   h = ∇_x f_J − ∇²_xy g_B w,  w ≈ [∇²_yy g]⁻¹ ∇_y f_J
/// (x⁻, y⁻) ← (x, y);   y ← y − ρ_t D_y;   x ← x − (ρ_t / outerRatio) D_x
/// ```
/// The first iteration takes the plain estimates (D_y = ∇_y g_B, D_x = h).
struct DoubleMomentumState {
  var x: Tensor
  var y: Tensor
  var previous: (x: Tensor, y: Tensor)? = nil
  var directions: (y: Tensor, x: Tensor)? = nil
  var t = 0
  var streams: BatchStreams
  var generator: SeededRandomNumberGenerator
  private var truncation = NeumannTruncation.randomized

  init(x: Tensor, y: Tensor, problem: BilevelProblem, settings: StochasticSettings) {
    self.x = x
    self.y = y
    streams = BatchStreams(problem: problem, settings: settings)
    generator = SeededRandomNumberGenerator(seed: settings.algorithmSeed)
    truncation = settings.neumannTruncation
  }

  mutating func step(
    oracles: Oracles, innerStep: StepSchedule, outerRatio: Double, momentum: StepSchedule, neumannStep: StepSchedule,
    neumannSteps: Int, estimate: NeumannEstimate
  ) -> Tensor {
    var streams = self.streams
    defer { self.streams = streams }
    let innerBatch = streams.nextInner()?.indices
    let outerBatch = streams.nextOuter()?.indices
    let eta = neumannStep.value(at: t)
    let gradientY = oracles.innerGradientY(x: x, y: y, batch: innerBatch)
    let (outerX, outerY) = oracles.outerGradients(x: x, y: y, batch: outerBatch)
    if let old = previous, let d = directions {
      let oldGradientY = oracles.innerGradientY(x: old.x, y: old.y, batch: innerBatch)
      let (oldOuterX, oldOuterY) = oracles.outerGradients(x: old.x, y: old.y, batch: outerBatch)
      let (w, oldW): (Tensor, Tensor)
      switch estimate {
      case .series:
        (w, oldW) = jointStochasticNeumannSeries(
          oracles: oracles, x: x, y: y, rightHandSide: outerY, previousX: old.x, previousY: old.y,
          previousRightHandSide: oldOuterY, step: eta, terms: neumannSteps
        ) { streams.nextInner()?.indices }
      case .randomized:
        (w, oldW) = jointRandomizedNeumannSeries(
          oracles: oracles, x: x, y: y, rightHandSide: outerY, previousX: old.x, previousY: old.y,
          previousRightHandSide: oldOuterY, step: eta, terms: neumannSteps, truncation: truncation, using: &generator
        ) { streams.nextInner()?.indices }
      }
      let h = outerX - oracles.crossProduct(x: x, y: y, v: w, batch: innerBatch)
      let oldH = oldOuterX - oracles.crossProduct(x: old.x, y: old.y, v: oldW, batch: innerBatch)
      let keep = 1 - momentum.value(at: t)
      directions = (gradientY + keep * (d.y - oldGradientY), h + keep * (d.x - oldH))
    } else {
      let w: Tensor
      switch estimate {
      case .series:
        w = stochasticNeumannSeries(oracles: oracles, x: x, y: y, rightHandSide: outerY, step: eta, terms: neumannSteps)
        {
          streams.nextInner()?.indices
        }
      case .randomized:
        w = randomizedNeumannSeries(
          oracles: oracles, x: x, y: y, rightHandSide: outerY, step: eta, terms: neumannSteps, truncation: truncation,
          using: &generator
        ) { streams.nextInner()?.indices }
      }
      directions = (gradientY, outerX - oracles.crossProduct(x: x, y: y, v: w, batch: innerBatch))
    }
    previous = (x, y)
    let d = directions!
    let rho = innerStep.value(at: t)
    y = y - rho * d.y
    x = x - (rho / outerRatio) * d.x
    t += 1
    return d.x
  }
}
