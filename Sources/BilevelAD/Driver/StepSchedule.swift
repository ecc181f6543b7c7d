import Foundation

/// A step-size schedule over outer iterations t = 0, 1, 2, ...
public enum StepSchedule: Sendable, Equatable {
  /// ρ_t = c.
  case constant(Double)
  /// ρ_t = c / (t + 1)^e; e = 1/2 is the rate of the SOBA theorem (Dagréou et al. 2022).
  case decreasing(Double, exponent: Double)

  /// The step at iteration t (0-based).
  public func value(at t: Int) -> Double {
    switch self {
    case .constant(let c): return c
    case .decreasing(let c, let exponent): return c / Foundation.pow(Double(t + 1), exponent)
    }
  }

  /// The schedule with its constant scaled by `factor` (same exponent).
  public func scaled(by factor: Double) -> StepSchedule {
    switch self {
    case .constant(let c): return .constant(c * factor)
    case .decreasing(let c, let exponent): return .decreasing(c * factor, exponent: exponent)
    }
  }
}
