import Autodiff
import BilevelAD
import Dispatch

/// `bilevel-cli hypergradient TASK --method M`: one hypergradient estimate at the task's
/// starting point, compared with the best reference the task has.
enum HypergradientCommand {
  /// The method names, as `HypergradientMethod` defines them.
  static var methods: [String] { HypergradientMethod.allCases.map(\.rawValue) }

  static func run(_ arguments: ParsedArguments, console: Console) throws(CLIError) {
    let taskName = try arguments.choice("task", from: TaskRegistry.names)
    let methodName = try arguments.choice("method", from: methods)
    let method = HypergradientMethod(rawValue: methodName)!
    let steps = try arguments.int("steps", range: 1...100_000)
    let seed = UInt64(try arguments.int("seed", range: 0...))
    let dataPath = arguments.contains("data") ? try arguments.path("data") : nil
    if dataPath != nil && !TaskRegistry.dataTasks.contains(taskName) {
      throw arguments.validationError(
        "--data applies to the \(TaskRegistry.dataTasks.joined(separator: ", ")) tasks, not '\(taskName)'")
    }
    let task = try TaskRegistry.instance(
      taskName, options: TaskOptions(seed: seed, evaluateHypergradient: false), dataPath: dataPath)
    let problem = task.problem
    let x = task.x0
    if method == .unrolledForward && x.scalarCount > 200 {
      throw arguments.validationError(
        "unrolled-forward carries dy/dx, one column per outer variable, through every step, and \(taskName) has \(x.scalarCount) (at most 200); use unrolled-reverse"
      )
    }
    if method == .implicitDense && task.y0.scalarCount > 1000 {
      throw arguments.validationError("implicit-dense forms the \(task.y0.scalarCount)² inner Hessian; use implicit-cg")
    }
    if [.unrolledReverse, .truncated].contains(method) && steps > 2000 {
      throw arguments.invalidValueError(
        "steps",
        reason:
          "\(methodName) keeps every step on its tape (memory grows with --steps); above 2000 use --method checkpointed"
      )
    }
    if method == .implicitWoodbury && task.woodbury == nil {
      let available = ["hyperparam"].joined(separator: ", ")
      throw arguments.validationError(
        "implicit-woodbury needs an inner Hessian of the form diagonal + low rank, which \(taskName) does not declare; available for: \(available)"
      )
    }
    let inner = problem.solveInner(x: x, y0: task.y0, tolerance: 1e-10, maxIterations: 300)
    let y = inner.solution
    let start = DispatchTime.now().uptimeNanoseconds
    let estimate = method.estimate(
      problem, x: x, y: y, y0: task.y0, steps: steps, innerStep: task.innerStep, seed: seed, woodbury: task.woodbury)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9

    let (reference, referenceName) = self.reference(task: task, x: x, y: y)
    var table = TextTable(
      title: "\(taskName): hypergradient by \(methodName) at the starting point", headers: ["quantity", "value"])
    table.append(["‖estimate‖", TextTable.format(estimate.gradient.norm().scalar, significantDigits: 6)])
    if let reference {
      let error = (estimate.gradient - reference).norm().scalar / max(reference.norm().scalar, 1e-300)
      table.append(["relative error vs \(referenceName)", TextTable.format(error, significantDigits: 3)])
    }
    table.append([
      "inner solve",
      "‖∇_y g‖ = \(TextTable.format(inner.gradientNorm, significantDigits: 3)) after \(inner.iterations) Newton-CG steps",
    ])
    table.append(["converged", estimate.converged ? "yes" : "no"])
    table.append(["time (ms)", TextTable.format(seconds * 1000, significantDigits: 4)])
    table.append(["oracle calls", "\(estimate.counts.total) (\(estimate.counts))"])
    if estimate.innerSolves > 0 { table.append(["inner solves", "\(estimate.innerSolves)"]) }
    if !estimate.diagnostics.isEmpty { table.append(["diagnostics", estimate.diagnostics]) }
    console.output(table.rendered() + "\n")
    let head = estimate.gradient.scalars.prefix(6).map { TextTable.format($0, significantDigits: 5) }.joined(
      separator: ", ")
    console.output(
      "estimate[0..<\(min(6, estimate.gradient.scalarCount))] = [\(head)\(estimate.gradient.scalarCount > 6 ? ", …" : "")]\n"
    )
  }

  /// The exact hypergradient where the task has one, else a tight implicit solve.
  static func reference(task: TaskInstance, x: Tensor, y: Tensor) -> (Tensor?, String) {
    if let exact = task.exactHypergradient { return (exact(x), "the closed form") }
    let n = y.scalarCount
    let result =
      n <= 400
      ? task.problem.implicitHypergradient(x: x, y: y, solver: .dense)
      : task.problem.implicitHypergradient(
        x: x, y: y, solver: .conjugateGradient(maxIterations: 4 * n, tolerance: 1e-12))
    return result.converged
      ? (result.gradient, n <= 400 ? "implicit dense (Cholesky)" : "implicit CG to 1e-12")
      : (nil, "none (the reference solve did not converge: \(result.diagnostics))")
  }
}
