import Autodiff

/// A bilevel optimization algorithm: its own state and one `step` per outer iteration.
///
/// Conforming types are configured by their initializers (with the published defaults),
/// set up at (x0, y0) by `start`, and advanced by `step`, which makes all of its oracle
/// calls through the `Oracles` it is given so that the driver can count them.
public protocol BilevelAlgorithm {
  /// The name used in the literature and on the command line, lowercase with hyphens.
  var name: String { get }
  /// The current outer iterate.
  var x: Tensor { get }
  /// The current inner iterate: the algorithm's estimate of y*(x).
  var y: Tensor { get }
  /// Sets up the state at (x0, y0).
  ///
  /// - Parameters:
  ///   - x: the starting outer variable.
  ///   - y: the starting inner variable.
  ///   - oracles: the counted oracles (a few algorithms spend calls to initialize).
  mutating func start(x: Tensor, y: Tensor, oracles: Oracles)
  /// Performs one outer iteration.
  ///
  /// - Parameter oracles: the counted oracles of the problem.
  /// - Returns: the direction the outer variable moved along (the algorithm's estimate of
  ///   ∇F(x) before its step), recorded in the trace.
  mutating func step(oracles: Oracles) -> Tensor
}

/// When the driver stops a run.
public struct StoppingRule: Sendable, Equatable {
  /// The most outer iterations.
  public var maxIterations: Int
  /// The most seconds spent inside the algorithm's steps.
  public var timeLimit: Double?
  /// The most oracle calls of any kind (`OracleCounts.total`).
  public var oracleBudget: Int?
  /// Stop once an evaluated ‖∇F(x)‖ is at most this.
  public var hypergradientTolerance: Double?
  /// The most wall-clock seconds for the whole run, evaluations included, checked before
  /// every step and every evaluation. Once it has passed, the last iterate is recorded
  /// without an evaluation and marked unreliable ("not evaluated").
  public var wallClockLimit: Double?

  /// A stopping rule; any limit left nil does not apply.
  public init(
    maxIterations: Int = 1000, timeLimit: Double? = nil, oracleBudget: Int? = nil,
    hypergradientTolerance: Double? = nil, wallClockLimit: Double? = nil
  ) {
    self.maxIterations = maxIterations
    self.timeLimit = timeLimit
    self.oracleBudget = oracleBudget
    self.hypergradientTolerance = hypergradientTolerance
    self.wallClockLimit = wallClockLimit
  }
}

/// Why a run stopped.
public enum StopReason: String, Sendable, Codable {
  case maxIterations = "iterations"
  case timeLimit = "time limit"
  case oracleBudget = "oracle budget"
  case tolerance = "tolerance reached"
  case observer = "stopped by observer"
  case diverged = "diverged"
}

/// What the driver measures at an evaluated iteration, outside the timed path.
public struct Evaluation: Sendable {
  /// F(x) = f(x, y*(x)).
  public var outerValue: Double?
  /// ‖∇F(x)‖.
  public var hypergradientNorm: Double?
  /// Task metrics such as "test accuracy".
  public var metrics: [String: Double]
  /// Why F or ‖∇F‖ cannot be trusted (the inner solve or the linear solve behind them did
  /// not converge); nil when they can. The driver never stops on a tolerance met by an
  /// unreliable evaluation, and records the reason in the trace.
  public var unreliable: String?

  /// An evaluation with the given values.
  public init(
    outerValue: Double? = nil, hypergradientNorm: Double? = nil, metrics: [String: Double] = [:],
    unreliable: String? = nil
  ) {
    self.outerValue = outerValue
    self.hypergradientNorm = hypergradientNorm
    self.metrics = metrics
    self.unreliable = unreliable
  }
}

/// The outcome of a run.
public struct SolveResult<X: TensorStructure, Y: TensorStructure> {
  /// The last outer iterate, of x0's structure.
  public var x: X
  /// The last inner iterate, of y0's structure.
  public var y: Y
  /// The recorded history.
  public var trace: Trace
  /// Why the run stopped.
  public var stopReason: StopReason
}

extension BilevelProblem {
  /// The default evaluation: y*(x) solved tightly (Newton-CG from `y`, ‖∇_y g‖ ≤ 1e-10),
  /// F(x) = f(x, y*), and ‖∇F(x)‖ from the implicit hypergradient with conjugate gradient
  /// to 1e-10. Its oracle calls are not counted against the algorithm.
  ///
  /// When the inner solve or the linear solve does not converge (an unbounded or NaN inner
  /// problem, an indefinite Hessian), the evaluation is marked `unreliable` with the
  /// solvers' diagnostics: its ‖∇F‖ is then no evidence of stationarity.
  public func evaluate(x: Tensor, y: Tensor) -> Evaluation {
    let inner = solveInner(x: x, y0: y, tolerance: 1e-10, maxIterations: 200)
    let value = outer(x, inner.solution).scalar
    let h = implicitHypergradient(
      x: x, y: inner.solution, solver: .conjugateGradient(maxIterations: max(100, 2 * y.scalarCount), tolerance: 1e-10),
      innerTolerance: 1e-8)
    var problems: [String] = []
    if !inner.converged { problems.append("inner solve: \(inner.diagnostics)") }
    if !h.converged || h.indefinite { problems.append("hypergradient: \(h.diagnostics)") }
    return Evaluation(
      outerValue: value, hypergradientNorm: h.gradient.norm().scalar,
      unreliable: problems.isEmpty ? nil : problems.joined(separator: "; "))
  }
}
