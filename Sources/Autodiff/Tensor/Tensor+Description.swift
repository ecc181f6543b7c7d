import Foundation

// Printing tensors the way NumPy does.

extension Tensor: CustomStringConvertible {
  /// The values laid out like NumPy's `str`: nested brackets, one row per line, columns
  /// aligned; tensors with more than 1000 values show their first and last three entries
  /// along each axis with `...` between.
  public var description: String {
    let values = scalars
    let formatted = Tensor.format(values)
    let width = formatted.map(\.count).max() ?? 0
    let summarize = values.count > 1000
    func render(_ axis: Int, _ offset: Int, _ indent: String) -> String {
      if axis == rank { return String(repeating: " ", count: width - formatted[offset].count) + formatted[offset] }
      let stride = shape[(axis + 1)...].reduce(1, *)
      var indices = Array(0..<shape[axis])
      var elided = false
      if summarize && shape[axis] > 6 {
        indices = [0, 1, 2, shape[axis] - 3, shape[axis] - 2, shape[axis] - 1]
        elided = true
      }
      var parts = indices.map { render(axis + 1, offset + $0 * stride, indent + " ") }
      if elided { parts.insert("...", at: 3) }
      let separator = axis == rank - 1 ? " " : String(repeating: "\n", count: rank - axis - 1) + indent + " "
      return "[" + parts.joined(separator: separator) + "]"
    }
    return render(0, 0, "")
  }

  /// NumPy's default formatting: fixed point with at most 8 decimals (trailing zeros
  /// dropped, "1." for whole numbers), or scientific notation when magnitudes span too
  /// widely (a non-zero below 1e-4, or anything from 1e8 up).
  static func format(_ values: [Double]) -> [String] {
    let magnitudes = values.filter { $0.isFinite && $0 != 0 }.map { Swift.abs($0) }
    let scientific = magnitudes.contains { $0 < 1e-4 || $0 >= 1e8 }
    return values.map { value in
      if value.isNaN { return "nan" }
      if value.isInfinite { return value > 0 ? "inf" : "-inf" }
      if scientific {
        let text = String(format: "%.8e", value)
        guard let e = text.firstIndex(of: "e") else { return text }
        var mantissa = String(text[..<e])
        while mantissa.hasSuffix("0") { mantissa.removeLast() }
        return mantissa + String(text[e...])
      }
      var text = String(format: "%.8f", value)
      while text.hasSuffix("0") { text.removeLast() }
      if text == "-0." && value == 0 && value.sign == .plus { text = "0." }
      return text
    }
  }
}

extension Tensor: CustomDebugStringConvertible {
  /// The description, with the shape and, for a tensor being differentiated, its level.
  public var debugDescription: String {
    var kind = "constant"
    if let lift { kind = lift.tape == nil ? "dual at level \(lift.tag)" : "tracer at level \(lift.tag)" }
    return "Tensor(shape: \(shape), \(kind)):\n\(description)"
  }
}
