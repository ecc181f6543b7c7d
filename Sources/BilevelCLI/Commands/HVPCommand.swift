import Autodiff

/// `bilevel-cli hvp`: checks that the three HVP modes and the dense Hessian agree and
/// times each mode against the gradient.
enum HVPCommand {
  static let functions = ["logistic", "mlp", "rosenbrock", "quadratic"]

  static func make(_ name: String, size: Int) -> TestFunction {
    switch name {
    case "logistic": return .logistic(samples: max(10 * size, 100), features: size)
    case "mlp": return .mlp(inputs: 16, hidden: size, classes: 4, batch: 64)
    case "rosenbrock": return .rosenbrock(dimension: size)
    default: return .quadratic(dimension: size)
    }
  }

  static func run(_ arguments: ParsedArguments, console: Console) throws(CLIError) {
    let name = try arguments.choice("function", from: functions)
    let size = try arguments.int("size", range: 2...100_000)
    let limits = ["logistic": 1000, "mlp": 4096, "rosenbrock": 100_000, "quadratic": 3000]
    if let limit = limits[name], size > limit {
      throw arguments.invalidValueError(
        "size", reason: "\(name) takes at most \(limit) (its data grow like the size squared); got \(size)")
    }
    let repeats = try arguments.int("repeats", range: 1...10_000)
    let test = make(name, size: size)
    let n = test.point.scalarCount
    let gradientTime = measure(repeats: repeats) { _ = gradient(at: test.point, of: test.function) }
    var reference: Tensor? = nil
    var referenceName = "hessian(at:of:) · v"
    if n <= 2000 {
      reference = matmul(
        hessian(at: test.point, of: test.function).reshaped(to: [n, n]), test.direction.reshaped(to: [n]))
    } else {
      referenceName = "forward-over-reverse (the Hessian has \(n)² entries)"
    }
    var table = TextTable(
      title: "\(test.description): \(n) parameters; agreement with \(referenceName)",
      headers: ["operation", "µs per call (median)", "ratio to gradient", "max relative difference"])
    table.append(["gradient", TextTable.format(gradientTime.median, significantDigits: 4), "1", ""])
    var worst = 0.0
    for mode in HVPMode.allCases {
      let product = hvp(at: test.point, direction: test.direction, mode: mode, of: test.function).reshaped(to: [n])
      if reference == nil { reference = product }
      let difference = maxRelativeDifference(product, reference!)
      worst = max(worst, difference)
      let time = measure(repeats: repeats) {
        _ = hvp(at: test.point, direction: test.direction, mode: mode, of: test.function)
      }
      table.append([
        "hvp \(mode.rawValue)", TextTable.format(time.median, significantDigits: 4),
        TextTable.format(time.median / gradientTime.median, significantDigits: 3),
        TextTable.format(difference, significantDigits: 2),
      ])
    }
    console.output(table.rendered() + "\n")
    if worst > 1e-8 {
      throw CLIError.runFailed("the HVP modes disagree by \(worst) (relative), above 1e-8")
    }
    console.output("All modes agree to \(TextTable.format(max(worst, 1e-17), significantDigits: 2)) (relative).\n")
  }

  /// max |a − b| / max(1, max |b|).
  static func maxRelativeDifference(_ a: Tensor, _ b: Tensor) -> Double {
    let x = a.scalars
    let y = b.scalars
    let scale = max(1, y.map(abs).max() ?? 0)
    return zip(x, y).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
  }
}
