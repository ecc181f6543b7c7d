import Autodiff
import Foundation

/// A line chart as a standalone SVG 1.1 document: named series of (x, y) points, axes with
/// ticks, labels and a light grid, optional logarithmic axes, a legend, and an optional
/// shaded band per series (a quantile band across seeds, say).
///
///     var plot = SVGPlot(title: "Hypergradient error", xLabel: "iteration",
///                        yLabel: "‖h − ∇F‖", yScale: .logarithmic)
///     plot.series.append(.init(name: "SOBA", x: iterations, y: medians,
///                              lower: firstQuartiles, upper: thirdQuartiles))
///     let svg = plot.rendered()
///
/// Each series with at least one drawable point becomes one `<path>`; a band becomes
/// `<polygon>`s. Points that cannot be drawn (non-finite, or not positive on a logarithmic
/// axis) are skipped and break the line. All text is escaped.
public struct SVGPlot: Sendable, Equatable {
  /// How an axis maps values to positions.
  public enum Scale: Sendable, Equatable {
    case linear
    /// Base-10 logarithmic; only positive values are drawn.
    case logarithmic
  }

  /// One named curve, with an optional band between a lower and an upper curve.
  public struct Series: Sendable, Equatable {
    /// The name shown in the legend.
    public var name: String
    /// The x coordinates.
    public var x: [Double]
    /// The y coordinates, one per x.
    public var y: [Double]
    /// The band's lower curve, one value per x; `nil` for no band.
    public var lower: [Double]?
    /// The band's upper curve, one value per x; `nil` for no band.
    public var upper: [Double]?

    /// Creates a series.
    ///
    /// - Parameters:
    ///   - name: The legend entry.
    ///   - x: The x coordinates.
    ///   - y: The y coordinates.
    ///   - lower: The band's lower curve, if the series has a band.
    ///   - upper: The band's upper curve, if the series has a band.
    /// - Precondition: All given arrays have the same length, and `lower` and `upper` are
    ///   both given or both `nil`.
    public init(name: String, x: [Double], y: [Double], lower: [Double]? = nil, upper: [Double]? = nil) {
      require(x.count == y.count, "SVGPlot.Series '\(name)': \(x.count) x values and \(y.count) y values")
      require((lower == nil) == (upper == nil), "SVGPlot.Series '\(name)': a band needs both lower and upper")
      require(
        (lower?.count ?? x.count) == x.count && (upper?.count ?? x.count) == x.count,
        "SVGPlot.Series '\(name)': band curves must have \(x.count) values")
      self.name = name
      self.x = x
      self.y = y
      self.lower = lower
      self.upper = upper
    }
  }

  /// The title above the chart; empty for none.
  public var title: String
  /// The x axis label.
  public var xLabel: String
  /// The y axis label.
  public var yLabel: String
  /// The x axis scale.
  public var xScale: Scale
  /// The y axis scale.
  public var yScale: Scale
  /// The image width in pixels.
  public var width: Int
  /// The image height in pixels.
  public var height: Int
  /// The series, drawn in order with the palette's colors.
  public var series: [Series] = []

  /// Creates an empty chart.
  ///
  /// - Parameters:
  ///   - title: The title above the chart.
  ///   - xLabel: The x axis label.
  ///   - yLabel: The y axis label.
  ///   - xScale: `.linear` or `.logarithmic`.
  ///   - yScale: `.linear` or `.logarithmic`.
  ///   - width: The image width in pixels, at least 200.
  ///   - height: The image height in pixels, at least 150.
  public init(
    title: String = "", xLabel: String = "", yLabel: String = "", xScale: Scale = .linear,
    yScale: Scale = .linear, width: Int = 720, height: Int = 450
  ) {
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.xScale = xScale
    self.yScale = yScale
    self.width = max(200, width)
    self.height = max(150, height)
  }

  /// Matplotlib's "tab10" palette followed by ten darker companions; series beyond
  /// twenty reuse it.
  static let palette = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#0b3d66", "#a64d00", "#145a14", "#7a1414", "#4b2d6b",
    "#4d2f27", "#8f2f74", "#333333", "#6b6b0d", "#0d6b75",
  ]

  /// The SVG document.
  ///
  /// - Returns: A well-formed SVG 1.1 document with an XML declaration.
  /// - Complexity: O(total number of points).
  public func rendered() -> String {
    let left = 78.0
    let right = 20.0
    let top = title.isEmpty ? 20.0 : 44.0
    let bottom = xLabel.isEmpty ? 40.0 : 58.0
    let plotLeft = left
    let plotRight = Double(width) - right
    let plotTop = top
    let plotBottom = Double(height) - bottom

    let xAxis = Axis(
      scale: xScale,
      values: series.flatMap { $0.x },
      from: plotLeft, to: plotRight)
    let yAxis = Axis(
      scale: yScale,
      values: series.flatMap { s in s.y + (s.lower ?? []) + (s.upper ?? []) },
      from: plotBottom, to: plotTop)

    var svg = """
      <?xml version="1.0" encoding="UTF-8" standalone="no"?>
      <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(width)" height="\(height)" \
      viewBox="0 0 \(width) \(height)" font-family="Helvetica, Arial, sans-serif" font-size="12">

      """
    if !title.isEmpty { svg += "<title>\(escaped(title))</title>\n" }
    svg += "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"white\"/>\n"
    if !title.isEmpty {
      svg +=
        "<text x=\"\(f(Double(width) / 2))\" y=\"26\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">\(escaped(title))</text>\n"
    }

    // Grid and ticks.
    svg += "<g stroke=\"#e6e6e6\" stroke-width=\"1\">\n"
    for tick in xAxis.ticks {
      let x = xAxis.position(tick.value)
      svg += "<line x1=\"\(f(x))\" y1=\"\(f(plotTop))\" x2=\"\(f(x))\" y2=\"\(f(plotBottom))\"/>\n"
    }
    for tick in yAxis.ticks {
      let y = yAxis.position(tick.value)
      svg += "<line x1=\"\(f(plotLeft))\" y1=\"\(f(y))\" x2=\"\(f(plotRight))\" y2=\"\(f(y))\"/>\n"
    }
    svg += "</g>\n<g stroke=\"#333333\" stroke-width=\"1\">\n"
    svg += "<line x1=\"\(f(plotLeft))\" y1=\"\(f(plotBottom))\" x2=\"\(f(plotRight))\" y2=\"\(f(plotBottom))\"/>\n"
    svg += "<line x1=\"\(f(plotLeft))\" y1=\"\(f(plotTop))\" x2=\"\(f(plotLeft))\" y2=\"\(f(plotBottom))\"/>\n"
    for tick in xAxis.ticks {
      let x = xAxis.position(tick.value)
      svg += "<line x1=\"\(f(x))\" y1=\"\(f(plotBottom))\" x2=\"\(f(x))\" y2=\"\(f(plotBottom + 5))\"/>\n"
    }
    for tick in yAxis.ticks {
      let y = yAxis.position(tick.value)
      svg += "<line x1=\"\(f(plotLeft - 5))\" y1=\"\(f(y))\" x2=\"\(f(plotLeft))\" y2=\"\(f(y))\"/>\n"
    }
    svg += "</g>\n<g fill=\"#333333\">\n"
    for tick in xAxis.ticks {
      svg +=
        "<text x=\"\(f(xAxis.position(tick.value)))\" y=\"\(f(plotBottom + 18))\" text-anchor=\"middle\">\(escaped(tick.label))</text>\n"
    }
    for tick in yAxis.ticks {
      svg +=
        "<text x=\"\(f(plotLeft - 8))\" y=\"\(f(yAxis.position(tick.value) + 4))\" text-anchor=\"end\">\(escaped(tick.label))</text>\n"
    }
    svg += "</g>\n"
    if !xLabel.isEmpty {
      svg +=
        "<text x=\"\(f((plotLeft + plotRight) / 2))\" y=\"\(f(Double(height) - 14))\" text-anchor=\"middle\" font-size=\"13\">\(escaped(xLabel))</text>\n"
    }
    if !yLabel.isEmpty {
      let cx = 18.0
      let cy = (plotTop + plotBottom) / 2
      svg +=
        "<text x=\"\(f(cx))\" y=\"\(f(cy))\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 \(f(cx)) \(f(cy)))\">\(escaped(yLabel))</text>\n"
    }

    // Bands first, so that every line is drawn over every band.
    for (index, s) in series.enumerated() {
      guard let lower = s.lower, let upper = s.upper else { continue }
      let color = Self.palette[index % Self.palette.count]
      var run: [(x: Double, lower: Double, upper: Double)] = []
      func flush() {
        if run.count >= 2 {
          let points =
            run.map { "\(f($0.x)),\(f($0.upper))" } + run.reversed().map { "\(f($0.x)),\(f($0.lower))" }
          svg +=
            "<polygon points=\"\(points.joined(separator: " "))\" fill=\"\(color)\" fill-opacity=\"0.18\" stroke=\"none\"/>\n"
        }
        run = []
      }
      for i in s.x.indices {
        if xAxis.canDraw(s.x[i]), yAxis.canDraw(lower[i]), yAxis.canDraw(upper[i]) {
          run.append((xAxis.position(s.x[i]), yAxis.position(lower[i]), yAxis.position(upper[i])))
        } else {
          flush()
        }
      }
      flush()
    }

    for (index, s) in series.enumerated() {
      var data = ""
      var penDown = false
      for i in s.x.indices {
        if xAxis.canDraw(s.x[i]), yAxis.canDraw(s.y[i]) {
          data += (data.isEmpty ? "" : " ") + (penDown ? "L" : "M")
          data += "\(f(xAxis.position(s.x[i]))),\(f(yAxis.position(s.y[i])))"
          penDown = true
        } else {
          penDown = false
        }
      }
      guard !data.isEmpty else { continue }
      let color = Self.palette[index % Self.palette.count]
      svg +=
        "<path d=\"\(data)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n"
    }

    // Legend, top right inside the plot area.
    if !series.isEmpty {
      let longest = series.map { $0.name.count }.max() ?? 0
      let legendWidth = Double(min(longest, 40)) * 7 + 44
      let legendHeight = Double(series.count) * 18 + 10
      let x0 = plotRight - legendWidth - 8
      let y0 = plotTop + 8
      svg +=
        "<g>\n<rect x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(legendWidth))\" height=\"\(f(legendHeight))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#cccccc\"/>\n"
      for (index, s) in series.enumerated() {
        let color = Self.palette[index % Self.palette.count]
        let y = y0 + 14 + Double(index) * 18
        svg +=
          "<line x1=\"\(f(x0 + 8))\" y1=\"\(f(y - 4))\" x2=\"\(f(x0 + 30))\" y2=\"\(f(y - 4))\" stroke=\"\(color)\" stroke-width=\"2.5\"/>\n"
        let name = s.name.count > 40 ? String(s.name.prefix(39)) + "…" : s.name
        svg += "<text x=\"\(f(x0 + 36))\" y=\"\(f(y))\">\(escaped(name))</text>\n"
      }
      svg += "</g>\n"
    }
    svg += "</svg>\n"
    return svg
  }

  /// A coordinate with at most two decimals.
  private func f(_ value: Double) -> String {
    let rounded = (value * 100).rounded() / 100
    if rounded == rounded.rounded() && abs(rounded) < 1e15 { return String(Int(rounded)) }
    return String(format: "%.2f", rounded)
  }

  /// Text safe inside an element or an attribute: markup characters escaped and characters
  /// that XML 1.0 forbids (most control characters) dropped.
  func escaped(_ text: String) -> String {
    var result = ""
    result.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
      switch scalar {
      case "&": result += "&amp;"
      case "<": result += "&lt;"
      case ">": result += "&gt;"
      case "\"": result += "&quot;"
      case "'": result += "&apos;"
      case "\t", "\n", "\r": result += " "
      default:
        let v = scalar.value
        if v < 0x20 || v == 0xFFFE || v == 0xFFFF || (0x7F...0x9F).contains(v) { continue }
        result.unicodeScalars.append(scalar)
      }
    }
    return result
  }
}

/// One axis: its domain, ticks, and the map from values to pixels.
private struct Axis {
  let scale: SVGPlot.Scale
  /// The domain in transformed units (log10 of the values for a logarithmic axis).
  let lower: Double
  let upper: Double
  /// Tick values, in data units, and their labels.
  let ticks: [(value: Double, label: String)]
  /// Spacing of linear ticks, which sets the labels' decimals.
  let step: Double
  let from: Double
  let to: Double

  init(scale: SVGPlot.Scale, values: [Double], from: Double, to: Double) {
    self.scale = scale
    self.from = from
    self.to = to
    switch scale {
    case .linear:
      let finite = values.filter(\.isFinite)
      var low = finite.min() ?? 0
      var high = finite.max() ?? 1
      if high - low < max(abs(high), abs(low)) * 1e-12 || high == low {
        let pad = low == 0 ? 1 : abs(low) * 0.1
        low -= pad
        high += pad
      }
      // Guard against ranges that overflow, such as -1e308...1e308.
      if !(high - low).isFinite {
        low /= 4
        high /= 4
      }
      let step = Self.niceStep((high - low) / 5)
      let lowTick = (low / step).rounded(.down) * step
      let highTick = (high / step).rounded(.up) * step
      self.step = step
      lower = lowTick
      upper = highTick
      var values: [Double] = []
      let count = Int(((highTick - lowTick) / step).rounded())
      if count >= 1 && count <= 50 {
        for i in 0...count { values.append(lowTick + Double(i) * step) }
      } else {
        values = [lowTick, highTick]
      }
      ticks = values.map { ($0, Self.linearLabel($0, step: step)) }
    case .logarithmic:
      let positive = values.filter { $0.isFinite && $0 > 0 }
      var low = (positive.min().map(log10) ?? 0).rounded(.down)
      var high = (positive.max().map(log10) ?? 1).rounded(.up)
      // Keep every tick a positive finite Double: 1e-323 is subnormal, 1e308 the last decade.
      low = min(max(low, -323), 307)
      high = min(max(high, -322), 308)
      if high <= low { high = low + 1 }
      step = 1
      lower = low
      upper = high
      let decades = Int(high - low)
      let stride = max(1, (decades + 9) / 10)
      var ticks: [(value: Double, label: String)] = []
      var exponent = Int(low)
      while exponent <= Int(high) {
        let multiples = decades == 1 && exponent < Int(high) ? [1, 2, 5] : [1]
        for multiple in multiples {
          ticks.append((Double(multiple) * Self.powerOfTen(exponent), Self.logarithmicLabel(multiple, exponent)))
        }
        exponent += stride
      }
      self.ticks = ticks
    }
  }

  /// 1, 2 or 5 times a power of ten, at least `rough`.
  static func niceStep(_ rough: Double) -> Double {
    guard rough > 0, rough.isFinite else { return 1 }
    let magnitude = powerOfTen(Int(log10(rough).rounded(.down)))
    let fraction = rough / magnitude
    let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
    return nice * magnitude
  }

  /// 10 to an integer power, exact where `Double` can be.
  static func powerOfTen(_ exponent: Int) -> Double {
    Double("1e\(exponent)") ?? pow(10, Double(exponent))
  }

  func transformed(_ value: Double) -> Double {
    scale == .linear ? value : log10(value)
  }

  /// Whether a value can be placed on this axis.
  func canDraw(_ value: Double) -> Bool {
    value.isFinite && (scale == .linear || value > 0)
  }

  /// The pixel coordinate of a value.
  func position(_ value: Double) -> Double {
    let t = (transformed(value) - lower) / (upper - lower)
    let position = from + t * (to - from)
    return min(max(position, -1e6), 1e6)
  }

  /// A linear tick's label, with as many decimals as the step needs.
  static func linearLabel(_ value: Double, step: Double) -> String {
    if value == 0 { return "0" }
    if abs(value) >= 1e6 || step < 1e-4 { return String(format: "%g", value) }
    let decimals = step >= 1 ? 0 : Int((-log10(step)).rounded(.up))
    let text = String(format: "%.\(decimals)f", value)
    return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
  }

  /// A logarithmic tick's label, `multiple` × 10^`exponent`: plain from 0.001 to 50000,
  /// otherwise like `1e-5` or `2e6`.
  static func logarithmicLabel(_ multiple: Int, _ exponent: Int) -> String {
    if (-3...4).contains(exponent) {
      return String(format: "%g", Double(multiple) * powerOfTen(exponent))
    }
    return "\(multiple)e\(exponent)"
  }
}
