/// How many times each first- and second-order oracle was called.
///
/// Every estimator and algorithm reports these, so methods can be compared by oracle
/// complexity as the literature does. A Hessian-vector product and a cross product each
/// cost a small constant times a gradient.
public struct OracleCounts: Equatable, Hashable, Sendable, Codable, CustomStringConvertible {
  /// Evaluations of ∇_x f.
  public var outerGradientX = 0
  /// Evaluations of ∇_y f.
  public var outerGradientY = 0
  /// Evaluations of ∇_y g.
  public var innerGradientY = 0
  /// Evaluations of ∇_x g.
  public var innerGradientX = 0
  /// Hessian-vector products ∇²_yy g v by automatic differentiation (a finite-difference
  /// estimate counts as the two ∇_y g evaluations it makes).
  public var hessianVectorProducts = 0
  /// Cross products ∇²_xy g v by automatic differentiation (a finite-difference estimate
  /// counts as the two ∇_x g evaluations it makes).
  public var crossProducts = 0
  /// Evaluations of g.
  public var innerValues = 0
  /// Evaluations of f.
  public var outerValues = 0
  /// Outer samples touched by mini-batch oracles (Σ |B| over calls with a batch).
  public var outerSamples = 0
  /// Inner samples touched by mini-batch oracles (Σ |B| over calls with a batch).
  public var innerSamples = 0

  /// All counts zero.
  public init() {}

  /// Counts given field by field (zero where omitted), for example the calls an
  /// algorithm's step is expected to make.
  public init(
    outerGradientX: Int = 0, outerGradientY: Int = 0, innerGradientY: Int = 0, innerGradientX: Int = 0,
    hessianVectorProducts: Int = 0, crossProducts: Int = 0, innerValues: Int = 0, outerValues: Int = 0,
    outerSamples: Int = 0, innerSamples: Int = 0
  ) {
    self.outerGradientX = outerGradientX
    self.outerGradientY = outerGradientY
    self.innerGradientY = innerGradientY
    self.innerGradientX = innerGradientX
    self.hessianVectorProducts = hessianVectorProducts
    self.crossProducts = crossProducts
    self.innerValues = innerValues
    self.outerValues = outerValues
    self.outerSamples = outerSamples
    self.innerSamples = innerSamples
  }

  /// Gradient evaluations of any kind: ∇_x f, ∇_y f, ∇_y g, ∇_x g.
  public var gradients: Int { outerGradientX + outerGradientY + innerGradientY + innerGradientX }

  /// Every oracle call of any kind.
  public var total: Int { gradients + hessianVectorProducts + crossProducts + innerValues + outerValues }

  /// The counts added field by field.
  public static func + (a: OracleCounts, b: OracleCounts) -> OracleCounts {
    var sum = a
    sum += b
    return sum
  }

  /// Adds `b`'s counts to `a`'s.
  public static func += (a: inout OracleCounts, b: OracleCounts) {
    a.outerGradientX += b.outerGradientX
    a.outerGradientY += b.outerGradientY
    a.innerGradientY += b.innerGradientY
    a.innerGradientX += b.innerGradientX
    a.hessianVectorProducts += b.hessianVectorProducts
    a.crossProducts += b.crossProducts
    a.innerValues += b.innerValues
    a.outerValues += b.outerValues
    a.outerSamples += b.outerSamples
    a.innerSamples += b.innerSamples
  }

  /// The counts of `a` less those of `b` (calls made between two snapshots).
  public static func - (a: OracleCounts, b: OracleCounts) -> OracleCounts {
    var d = a
    d.outerGradientX -= b.outerGradientX
    d.outerGradientY -= b.outerGradientY
    d.innerGradientY -= b.innerGradientY
    d.innerGradientX -= b.innerGradientX
    d.hessianVectorProducts -= b.hessianVectorProducts
    d.crossProducts -= b.crossProducts
    d.innerValues -= b.innerValues
    d.outerValues -= b.outerValues
    d.outerSamples -= b.outerSamples
    d.innerSamples -= b.innerSamples
    return d
  }

  public var description: String {
    "∇xf \(outerGradientX), ∇yf \(outerGradientY), ∇yg \(innerGradientY), ∇xg \(innerGradientX), "
      + "HVP \(hessianVectorProducts), cross \(crossProducts), g \(innerValues), f \(outerValues)"
  }
}
