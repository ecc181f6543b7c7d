import Autodiff

/// What every stochastic algorithm carries from one step to the next, whatever its
/// update: the iterates (x, y), the iteration counter t, the two mini-batch streams and
/// the generator of the algorithm's own draws (Neumann depths, smoothing directions).
///
/// An algorithm stores one, replaces it in `start`, reads `x` and `y` from it and writes
/// `state.x`, `state.y`, `state.t` in `step`; its file then holds only its
/// hyper-parameters, its extra state (v, momenta, memories) and its update:
/// ```swift
/// private var state = StochasticIterate()
/// public var x: Tensor { state.x }
/// public var y: Tensor { state.y }
/// public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
///   state = StochasticIterate(x: x, y: y, oracles: oracles, settings: settings)
/// }
/// ```
/// The streams are seeded by `settings.seed`, the generator by `settings.algorithmSeed`,
/// so two runs with the same settings draw the same batches and depths.
struct StochasticIterate {
  /// The outer iterate.
  var x = Tensor(0)
  /// The inner iterate.
  var y = Tensor(0)
  /// The number of completed steps (0 before the first).
  var t = 0
  /// The inner and outer mini-batch streams (full batches when not stochastic).
  var streams = BatchStreams()
  /// The algorithm's own random draws.
  var generator = SeededRandomNumberGenerator(seed: 0)

  /// The state before `start`.
  init() {}

  /// The state at (x0, y0) with fresh streams and generator.
  init(x: Tensor, y: Tensor, oracles: Oracles, settings: StochasticSettings) {
    self.x = x
    self.y = y
    streams = BatchStreams(problem: oracles.problem, settings: settings)
    generator = SeededRandomNumberGenerator(seed: settings.algorithmSeed)
  }

  /// The next inner batch's indices (nil: the full inner objective).
  mutating func innerBatch() -> [Int]? { streams.nextInner()?.indices }

  /// The next outer batch's indices (nil: the full outer objective).
  mutating func outerBatch() -> [Int]? { streams.nextOuter()?.indices }

  /// `stochasticNeumannSeries` on fresh inner batches.
  mutating func neumannSeries(
    oracles: Oracles, x: Tensor, y: Tensor, rightHandSide b: Tensor, step: Double, terms: Int
  ) -> Tensor {
    var streams = self.streams
    defer { self.streams = streams }
    return stochasticNeumannSeries(
      oracles: oracles, x: x, y: y, rightHandSide: b, step: step, terms: terms
    ) { streams.nextInner()?.indices }
  }

  /// `jointStochasticNeumannSeries` on fresh inner batches.
  mutating func jointNeumannSeries(
    oracles: Oracles, x: Tensor, y: Tensor, rightHandSide b: Tensor, previousX: Tensor, previousY: Tensor,
    previousRightHandSide previousB: Tensor, step: Double, terms: Int
  ) -> (current: Tensor, previous: Tensor) {
    var streams = self.streams
    defer { self.streams = streams }
    return jointStochasticNeumannSeries(
      oracles: oracles, x: x, y: y, rightHandSide: b, previousX: previousX, previousY: previousY,
      previousRightHandSide: previousB, step: step, terms: terms
    ) { streams.nextInner()?.indices }
  }

  /// `randomizedNeumannSeries` on fresh inner batches, its depth drawn from `generator`.
  mutating func randomizedNeumannSeries(
    oracles: Oracles, x: Tensor, y: Tensor, rightHandSide b: Tensor, step: Double, terms: Int,
    truncation: NeumannTruncation
  ) -> Tensor {
    var streams = self.streams
    defer { self.streams = streams }
    return BilevelAD.randomizedNeumannSeries(
      oracles: oracles, x: x, y: y, rightHandSide: b, step: step, terms: terms, truncation: truncation,
      using: &generator
    ) { streams.nextInner()?.indices }
  }

  /// `jointRandomizedNeumannSeries` on fresh inner batches, its depth drawn from
  /// `generator`.
  mutating func jointRandomizedNeumannSeries(
    oracles: Oracles, x: Tensor, y: Tensor, rightHandSide b: Tensor, previousX: Tensor, previousY: Tensor,
    previousRightHandSide previousB: Tensor, step: Double, terms: Int, truncation: NeumannTruncation
  ) -> (current: Tensor, previous: Tensor) {
    var streams = self.streams
    defer { self.streams = streams }
    return BilevelAD.jointRandomizedNeumannSeries(
      oracles: oracles, x: x, y: y, rightHandSide: b, previousX: previousX, previousY: previousY,
      previousRightHandSide: previousB, step: step, terms: terms, truncation: truncation, using: &generator
    ) { streams.nextInner()?.indices }
  }
}

/// A stochastic algorithm whose iterates live in a `StochasticIterate`: `x` and `y` are
/// read from it, and `start` replaces it (an algorithm with more state writes its own
/// `start`, which replaces `state` first).
protocol StochasticAlgorithm: BilevelAlgorithm {
  /// Batch size, sampling scheme, seed and Neumann truncation.
  var settings: StochasticSettings { get }
  /// The iterates, counter, samplers and generator.
  var state: StochasticIterate { get set }
}

extension StochasticAlgorithm {
  /// The current outer iterate.
  public var x: Tensor { state.x }
  /// The current inner iterate.
  public var y: Tensor { state.y }

  /// Sets (x, y) to the starting point and restarts the samplers, the generator and the
  /// schedules.
  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    state = StochasticIterate(x: x, y: y, oracles: oracles, settings: settings)
  }
}
