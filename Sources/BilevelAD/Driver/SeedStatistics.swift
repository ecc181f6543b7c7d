import Foundation

/// Statistics over runs that differ only in their seed: quantiles of final values, and
/// the median curve with a quantile band, as the benchopt bilevel benchmark draws them.
public enum SeedStatistics {
  /// The q-quantile of sorted values, linearly interpolated (NumPy's default).
  ///
  /// - Parameters:
  ///   - sorted: the values in ascending order.
  ///   - q: the quantile in [0, 1].
  /// - Returns: the quantile; NaN for no values.
  public static func quantile(_ sorted: [Double], _ q: Double) -> Double {
    guard sorted.count > 1 else { return sorted.first ?? .nan }
    let position = q * Double(sorted.count - 1)
    let lower = Int(position.rounded(.down))
    let upper = min(lower + 1, sorted.count - 1)
    let weight = position - Double(lower)
    return sorted[lower] * (1 - weight) + sorted[upper] * weight
  }

  /// The median of the values present (nil ones are left out); nil when none is.
  public static func median(_ values: [Double?]) -> Double? {
    let present = values.compactMap { $0 }.sorted()
    return present.isEmpty ? nil : quantile(present, 0.5)
  }

  /// A median curve with a band between two quantiles, on a common grid.
  public struct Band: Sendable {
    /// The grid of abscissae.
    public var grid: [Double]
    /// The median over curves at each grid point.
    public var median: [Double]
    /// The lower quantile at each grid point.
    public var lower: [Double]
    /// The upper quantile at each grid point.
    public var upper: [Double]
  }

  /// Each curve interpolated on a common grid (from the largest first abscissa to the
  /// smallest last one), then the median and the band between two quantiles.
  ///
  /// - Parameters:
  ///   - curves: non-empty curves of (abscissa, value) points in increasing abscissa.
  ///   - points: the grid's size.
  ///   - band: the lower and upper quantiles.
  ///   - logarithmic: interpolate log(value) between positive points (for norms).
  /// - Returns: the band; a curve's value past its last point is its last value.
  public static func band(
    of curves: [[(Double, Double)]], points: Int = 100, band: (lower: Double, upper: Double) = (0.2, 0.8),
    logarithmic: Bool = false
  ) -> Band {
    let curves = curves.filter { !$0.isEmpty }
    guard !curves.isEmpty else { return Band(grid: [], median: [], lower: [], upper: []) }
    let end = curves.map { $0.last!.0 }.min()!
    let start = curves.map { $0.first!.0 }.max()!
    let grid = (0..<points).map { start + (end - start) * Double($0) / Double(max(points - 1, 1)) }
    func interpolate(_ curve: [(Double, Double)], at x: Double) -> Double {
      guard let upper = curve.firstIndex(where: { $0.0 >= x }) else { return curve.last!.1 }
      if upper == 0 { return curve[0].1 }
      let (x0, y0) = curve[upper - 1]
      let (x1, y1) = curve[upper]
      let t = x1 > x0 ? (x - x0) / (x1 - x0) : 0
      if logarithmic && y0 > 0 && y1 > 0 {
        return Foundation.exp(Foundation.log(y0) * (1 - t) + Foundation.log(y1) * t)
      }
      return y0 * (1 - t) + y1 * t
    }
    var result = Band(grid: grid, median: [], lower: [], upper: [])
    for x in grid {
      let values = curves.map { interpolate($0, at: x) }.sorted()
      result.median.append(quantile(values, 0.5))
      result.lower.append(quantile(values, band.lower))
      result.upper.append(quantile(values, band.upper))
    }
    return result
  }
}
