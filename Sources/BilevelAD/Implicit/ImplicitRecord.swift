import Autodiff
import Synchronization

/// The certificate of an implicit layer (`argmin`, `root`, `fixedPoint`, `linearSolve`):
/// every numerical solve it made, wherever its value flowed.
///
/// Pass one record to a layer and read it after the larger program (a gradient, a Hessian,
/// a Newton loop) has run: each inner solve and each linear solve of the derivative rules,
/// at every order, appends one entry. A solve that failed (not converged, non-finite,
/// negative curvature met by conjugate gradient) is flagged in its entry, never silent.
///
/// ```swift
/// let record = ImplicitRecord()
/// let H = hessian(at: x) { x in f(x, argmin(at: x, from: y0, record: record) { x, y in g(x, y) }) }
/// require(record.allConverged, record.failures.joined(separator: "\n"))
/// ```
/// A record is safe to share between threads.
public final class ImplicitRecord: Sendable {
  /// One numerical solve.
  public struct Entry: Sendable, Equatable {
    /// What was solved.
    public enum Kind: String, Sendable {
      /// y*(x) itself: the inner problem, the root or the fixed point.
      case value
      /// A linear system of a derivative rule (or of `linearSolve`'s value).
      case linearSolve
    }
    /// What was solved.
    public var kind: Kind
    /// The layer that solved it ("argmin", "root", "fixedPoint", "linearSolve").
    public var layer: String
    /// Iterations of the solver.
    public var iterations: Int
    /// The final residual: ‖∇_y g‖, ‖F(x, y)‖ or ‖y − T(x, y)‖ for a value; ‖A v − b‖ for a
    /// linear solve.
    public var residualNorm: Double
    /// Whether the solve reached its tolerance within its budget.
    public var converged: Bool
    /// Whether non-positive curvature was met: the inner Hessian is not positive definite.
    public var indefinite: Bool
    /// Empty when all is well; otherwise what failed.
    public var diagnostics: String
  }

  private let storage = Mutex<[Entry]>([])

  /// An empty record.
  public init() {}

  /// Every solve so far, in the order they were made.
  public var entries: [Entry] { storage.withLock { $0 } }

  /// Whether every solve so far converged without negative curvature.
  public var allConverged: Bool { entries.allSatisfy { $0.converged && !$0.indefinite } }

  /// One sentence per failed solve.
  public var failures: [String] {
    entries.filter { !$0.converged || $0.indefinite }.map { entry in
      "\(entry.layer) \(entry.kind.rawValue): \(entry.diagnostics.isEmpty ? "not converged" : entry.diagnostics)"
        + " (residual \(entry.residualNorm), \(entry.iterations) iterations)"
    }
  }

  /// The largest residual of each kind so far (0 when there is none).
  public func largestResidual(of kind: Entry.Kind) -> Double {
    entries.filter { $0.kind == kind }.map(\.residualNorm).max() ?? 0
  }

  /// Forgets every entry.
  public func reset() { storage.withLock { $0.removeAll() } }

  func append(_ entry: Entry) { storage.withLock { $0.append(entry) } }
}
