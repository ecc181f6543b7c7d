import Autodiff

/// A closed convex set for the outer variable, with its Euclidean projection (for
/// proximal and projected steps) and its linear minimization oracle (for Frank-Wolfe).
public enum ConstraintSet: Sendable, Equatable {
  /// All of ℝⁿ.
  case unconstrained
  /// {x : lower ≤ xᵢ ≤ upper}.
  case box(lower: Double, upper: Double)
  /// {x : ‖x − center‖ ≤ radius} with center 0 when nil.
  case ball(radius: Double)
  /// The probability simplex {x : xᵢ ≥ 0, Σ xᵢ = 1}.
  case simplex
  /// {x : ‖x‖₁ ≤ radius}.
  case l1Ball(radius: Double)

  /// The Euclidean projection argmin_{z ∈ C} ‖z − x‖.
  ///
  /// - Complexity: O(n) for the box and ball, O(n log n) for the simplex and ℓ1 ball
  ///   (sort-based, Duchi et al., ICML 2008).
  public func project(_ x: Tensor) -> Tensor {
    let x = withoutDerivative(at: x)
    switch self {
    case .unconstrained:
      return x
    case .box(let lower, let upper):
      return Tensor(shape: x.shape, scalars: x.scalars.map { Swift.min(Swift.max($0, lower), upper) })
    case .ball(let radius):
      let norm = x.norm().scalar
      return norm <= radius ? x : x * (radius / norm)
    case .simplex:
      return Tensor(shape: x.shape, scalars: ConstraintSet.projectOntoSimplex(x.scalars, total: 1))
    case .l1Ball(let radius):
      let values = x.scalars
      if values.reduce(0, { $0 + Swift.abs($1) }) <= radius { return x }
      let magnitudes = ConstraintSet.projectOntoSimplex(values.map(Swift.abs), total: radius)
      return Tensor(shape: x.shape, scalars: zip(values, magnitudes).map { $0 < 0 ? -$1 : $1 })
    }
  }

  /// Whether x lies in the set, up to `tolerance`.
  public func contains(_ x: Tensor, tolerance: Double = 1e-9) -> Bool {
    let values = x.scalars
    switch self {
    case .unconstrained: return true
    case .box(let lower, let upper): return values.allSatisfy { $0 >= lower - tolerance && $0 <= upper + tolerance }
    case .ball(let radius): return x.norm().scalar <= radius + tolerance
    case .simplex:
      return values.allSatisfy { $0 >= -tolerance }
        && Swift.abs(values.reduce(0, +) - 1) <= tolerance * Double(max(values.count, 1))
    case .l1Ball(let radius): return values.reduce(0, { $0 + Swift.abs($1) }) <= radius + tolerance
    }
  }

  /// The linear minimization oracle argmin_{s ∈ C} <g, s>, used by Frank-Wolfe methods.
  ///
  /// - Precondition: the set is bounded.
  public func linearMinimizer(_ g: Tensor) -> Tensor {
    let values = g.scalars
    switch self {
    case .unconstrained:
      fatalError("linearMinimizer: the unconstrained set has no linear minimizer")
    case .box(let lower, let upper):
      return Tensor(shape: g.shape, scalars: values.map { $0 > 0 ? lower : upper })
    case .ball(let radius):
      let norm = g.norm().scalar
      return norm > 0 ? -radius * g / norm : Tensor.zeros(g.shape)
    case .simplex:
      var result = [Double](repeating: 0, count: values.count)
      if let index = values.indices.min(by: { values[$0] < values[$1] }) { result[index] = 1 }
      return Tensor(shape: g.shape, scalars: result)
    case .l1Ball(let radius):
      var result = [Double](repeating: 0, count: values.count)
      if let index = values.indices.max(by: { Swift.abs(values[$0]) < Swift.abs(values[$1]) }) {
        result[index] = values[index] > 0 ? -radius : radius
      }
      return Tensor(shape: g.shape, scalars: result)
    }
  }

  /// Projection of v onto {z ≥ 0, Σ z = total} (Duchi, Shalev-Shwartz, Singer, Chandra,
  /// "Efficient projections onto the ℓ1-ball for learning in high dimensions", ICML 2008).
  static func projectOntoSimplex(_ v: [Double], total: Double) -> [Double] {
    let sorted = v.sorted(by: >)
    var cumulative = 0.0
    var threshold = 0.0
    for (i, value) in sorted.enumerated() {
      cumulative += value
      let candidate = (cumulative - total) / Double(i + 1)
      if value - candidate > 0 { threshold = candidate }
    }
    return v.map { Swift.max($0 - threshold, 0) }
  }
}
