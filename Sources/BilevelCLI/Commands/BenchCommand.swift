import Autodiff
import BilevelAD
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// `bilevel-cli bench`: the performance table of `Docs/Benchmarks.md`.
///
/// Every figure is the median over `--repeats` timed runs after warm-up (more for a fast
/// case, until its runs add up to `--minimum-time`), with the minimum and maximum; ratios
/// are taken between medians of the same run.
enum BenchCommand {
  struct Row: Codable {
    var group: String
    var name: String
    var operation: String
    var median: Double
    var minimum: Double
    var maximum: Double
    var unit: String
    var ratio: Double?
  }

  static func run(_ arguments: ParsedArguments, console: Console) throws(CLIError) {
    let repeats = try arguments.int("repeats", range: 1...10_000)
    let minimumTime = try arguments.double("minimum-time", range: 0...10_000) / 1000
    /// `measure` with the bench's minimum time per case.
    func timing(repeats: Int, warmup: Int = 3, _ body: () -> Void) -> (median: Double, min: Double, max: Double) {
      measure(repeats: repeats, warmup: warmup, minimumTime: minimumTime, body)
    }
    let quick = arguments.flag("quick")
    if arguments.contains("kernels") {
      let name = try arguments.choice("kernels", from: KernelPath.allCases.map(\.description))
      guard let path = KernelPath(named: name), path.isSupported else {
        let supported = KernelPath.allCases.filter(\.isSupported).map(\.description).joined(separator: ", ")
        throw arguments.invalidValueError("kernels", reason: "this CPU supports \(supported)")
      }
      KernelPath.current = path
    }
    #if DEBUG
      console.error(
        "Warning: this is a debug build; timings are meaningless. Run 'swift run -c release bilevel-cli bench'.\n")
      if !quick { return }
    #endif
    let progress = ProgressLine(isEnabled: console.errorIsTerminal, output: console.error)
    var rows: [Row] = []
    func add(
      _ group: String, _ name: String, _ operation: String, _ t: (median: Double, min: Double, max: Double),
      unit: String = "µs", ratio: Double? = nil
    ) {
      rows.append(
        Row(
          group: group, name: name, operation: operation, median: t.median, minimum: t.min, maximum: t.max, unit: unit,
          ratio: ratio))
    }

    // Gradients and Hessian-vector products.
    // Each elementwise-heavy case also written with its elementwise chain as one
    // `ElementwiseFunction` ("fused"), as JAX-jit compiles it.
    var functions: [TestFunction] = [
      .logistic(samples: 1000, features: 50), .logistic(samples: 1000, features: 50, fused: true), .mlp(),
      .rosenbrock(dimension: 10), .rosenbrock(dimension: 1000), .rosenbrock(dimension: 1000, fused: true),
      .quadratic(dimension: 100),
    ]
    if !quick {
      functions += [
        .logistic(samples: 10_000, features: 100), .logistic(samples: 10_000, features: 100, fused: true),
        .logistic(samples: 50_000, features: 22), .logistic(samples: 50_000, features: 22, fused: true),
        .rosenbrock(dimension: 100_000), .rosenbrock(dimension: 100_000, fused: true),
        .quadratic(dimension: 1000),
      ]
    }
    for test in functions {
      progress.update("bench: \(test.name)")
      let value = timing(repeats: repeats) { _ = test.function(test.point) }
      let grad = timing(repeats: repeats) { _ = gradient(at: test.point, of: test.function) }
      add("autodiff", test.name, "value", value)
      add("autodiff", test.name, "gradient", grad, ratio: 1)
      for mode in HVPMode.allCases {
        let t = timing(repeats: repeats) {
          _ = hvp(at: test.point, direction: test.direction, mode: mode, of: test.function)
        }
        add("autodiff", test.name, "hvp \(mode.rawValue)", t, ratio: t.median / grad.median)
      }
    }

    // Batched tangents: the dense Hessian as one batched forward-over-reverse pass
    // (`hessian`, `jvp(at:directions:of:)`) against n HVPs, one unit direction per call.
    for test in [TestFunction.logistic(samples: 1000, features: 50), .quadratic(dimension: 100)] {
      progress.update("bench: batched \(test.name)")
      let n = test.point.scalarCount
      let batched = timing(repeats: max(3, repeats / 3)) { _ = hessian(at: test.point, of: test.function) }
      let columns = (0..<n).map { j in
        Tensor(shape: test.point.shape, scalars: (0..<n).map { $0 == j ? 1 : 0 })
      }
      let looped = timing(repeats: max(3, repeats / 3)) {
        for column in columns {
          _ = hvp(at: test.point, direction: column, mode: .forwardOverReverse, of: test.function)
        }
      }
      add("batched", test.name, "hessian: \(n) columns in one batched pass", batched, ratio: 1)
      add(
        "batched", test.name, "\(n) hvp calls, one column each", looped, ratio: looped.median / batched.median)
    }

    // The same MLP loss on three parameter layouts: one flat vector sliced by hand (above),
    // a [String: Tensor] and a struct; the structured ones must not be slower.
    do {
      progress.update("bench: mlp structures")
      let parts = MLPParts(inputs: 64, hidden: 128, classes: 10, batch: 256, seed: 1)
      let flat = TestFunction.mlp()
      let flatGradient = timing(repeats: repeats) { _ = gradient(at: flat.point, of: flat.function) }
      let flatHVP = timing(repeats: repeats) {
        _ = hvp(at: flat.point, direction: flat.direction, mode: .forwardOverReverse, of: flat.function)
      }
      func dictionaryLoss(_ d: [String: Tensor]) -> Tensor { parts.loss(MLPParts.network(d)) }
      let (dPoint, dDirection) = (MLPParts.dictionary(parts.point), MLPParts.dictionary(parts.direction))
      let dictionaryGradient = timing(repeats: repeats) { _ = gradient(at: dPoint, of: dictionaryLoss) }
      let dictionaryHVP = timing(repeats: repeats) {
        _ = hvp(at: dPoint, direction: dDirection, mode: .forwardOverReverse, of: dictionaryLoss)
      }
      let structGradient = timing(repeats: repeats) { _ = gradient(at: parts.point, of: parts.loss) }
      let structHVP = timing(repeats: repeats) {
        _ = hvp(at: parts.point, direction: parts.direction, mode: .forwardOverReverse, of: parts.loss)
      }
      let name = "mlp 64-128-10 layouts"
      add("structures", name, "gradient, flat vector", flatGradient, ratio: 1)
      add(
        "structures", name, "gradient, [String: Tensor]", dictionaryGradient,
        ratio: dictionaryGradient.median / flatGradient.median)
      add("structures", name, "gradient, struct", structGradient, ratio: structGradient.median / flatGradient.median)
      add("structures", name, "hvp forwardOverReverse, flat vector", flatHVP, ratio: 1)
      add(
        "structures", name, "hvp forwardOverReverse, [String: Tensor]", dictionaryHVP,
        ratio: dictionaryHVP.median / flatHVP.median)
      add("structures", name, "hvp forwardOverReverse, struct", structHVP, ratio: structHVP.median / flatHVP.median)
    }

    // Matrix multiply.
    for n in quick ? [256] : [256, 512, 1024] {
      progress.update("bench: matmul \(n)")
      let a = Tensor(randomNormal: [n, n], seed: 1)
      let b = Tensor(randomNormal: [n, n], seed: 2)
      let flops = 2 * Double(n * n * n)
      let saved = Parallelism.maximumThreads
      for threads in [1, saved] {
        Parallelism.maximumThreads = threads
        let t = timing(repeats: max(3, repeats / 3), warmup: 1) { _ = matmul(a, b) }
        add(
          "matmul", "\(n) x \(n)", "GFLOP/s, \(threads) thread\(threads == 1 ? "" : "s")",
          (flops / t.median / 1000, flops / t.max / 1000, flops / t.min / 1000), unit: "GFLOP/s")
      }
      Parallelism.maximumThreads = saved
    }

    // Per-operation overhead: a chain of 100 elementwise products.
    for size in [1, 16] {
      progress.update("bench: overhead \(size)")
      let x = Tensor(randomNormal: [size], seed: 3)
      let c = Tensor(randomNormal: [size], seed: 4)
      func chain(_ t: Tensor) -> Tensor {
        var u = t
        for _ in 0..<100 { u = u * c }
        return u.sum()
      }
      let constant = timing(repeats: repeats * 10) { _ = chain(x) }
      let reverse = timing(repeats: repeats * 10) { _ = gradient(at: x, of: chain) }
      let nested = timing(repeats: repeats * 10) { _ = gradient(at: x) { gradient(at: $0, of: chain).sum() } }
      add("overhead", "\(size) elements", "per op, constant", perOperation(constant))
      add("overhead", "\(size) elements", "per op, one reverse level (forward + backward)", perOperation(reverse))
      add("overhead", "\(size) elements", "per op, two nested levels", perOperation(nested))
      // The same with scalar literals, as JAX's peer writes it: 100 × (t * 1.0001 + 0.001),
      // 200 recorded operations.
      func literalChain(_ t: Tensor) -> Tensor {
        var u = t
        for _ in 0..<100 { u = u * 1.0001 + 0.001 }
        return u.sum()
      }
      let literalConstant = timing(repeats: repeats * 10) { _ = literalChain(x) }
      let literalReverse = timing(repeats: repeats * 10) { _ = gradient(at: x, of: literalChain) }
      add(
        "overhead", "\(size) elements", "per op, scalar literals, constant", perOperation(literalConstant, count: 200))
      add(
        "overhead", "\(size) elements", "per op, scalar literals, one reverse level",
        perOperation(literalReverse, count: 200))
    }

    // Bilevel hypergradients on the quadratic problem with d_x = d_y = d.
    for d in quick ? [100] : [100, 1000] {
      progress.update("bench: bilevel d = \(d)")
      let task = QuadraticBilevel(innerDimension: d, conditionNumber: 100, seed: 0)
      let x = Tensor(randomNormal: [d], seed: 1)
      let y = task.innerSolution(at: x)
      let cg = timing(repeats: max(3, repeats / 3), warmup: 1) {
        _ = task.problem.implicitHypergradient(
          x: x, y: y, solver: .conjugateGradient(maxIterations: 1000, tolerance: 1e-10))
      }
      add("bilevel", "quadratic d = \(d)", "implicit CG to 1e-10", cg)
      for k in quick ? [10, 100] : [10, 100, 1000] {
        let reverse = timing(repeats: max(1, repeats / (k / 10 + 2)), warmup: 1) {
          _ = task.problem.unrolledHypergradient(x: x, y0: Tensor.zeros([d]), steps: k, innerLearningRate: 0.01)
        }
        add("bilevel", "quadratic d = \(d)", "unrolled reverse K = \(k)", reverse)
        if d <= 100 {
          let forward = timing(repeats: max(1, repeats / (k / 10 + 2)), warmup: 1) {
            _ = task.problem.unrolledHypergradient(
              x: x, y0: Tensor.zeros([d]), steps: k, innerLearningRate: 0.01, mode: .forward)
          }
          add("bilevel", "quadratic d = \(d)", "unrolled forward K = \(k)", forward)
        }
      }
    }

    // Woodbury against conjugate gradient on ridge logistic regression with more
    // features (200) than samples (40): H = λ I + Xᵀ D X / n has rank-40 structure.
    do {
      progress.update("bench: woodbury")
      let features = Tensor(randomNormal: [40, 200], seed: 5)
      let labels = Tensor(Tensor(randomNormal: [40], seed: 6).scalars.map { $0 > 0 ? 1 : 0 })
      let validation = Tensor(randomNormal: [60, 200], seed: 7)
      let validationLabels = Tensor(Tensor(randomNormal: [60], seed: 8).scalars.map { $0 > 0 ? 1 : 0 })
      let ridge = 0.1
      let problem = BilevelProblem(
        outer: { _, w in
          let z = matmul(validation, w)
          return (softplus(z) - validationLabels * z).mean()
        },
        inner: { scale, w in
          let z = matmul(features, w)
          return (softplus(z) - labels * z).mean() + 0.5 * ridge * exp(scale).sum() * w.squared().sum()
        })
      let x = Tensor([0.0])
      let y = problem.solveInner(x: x, y0: Tensor.zeros([200]), tolerance: 1e-12).solution
      let cg = timing(repeats: repeats) {
        _ = problem.implicitHypergradient(x: x, y: y, solver: .conjugateGradient(maxIterations: 400, tolerance: 1e-10))
      }
      let woodbury = timing(repeats: repeats) {
        _ = problem.woodburyHypergradient(x: x, y: y) { _, w in
          WoodburyStructure.ridgeLogistic(features: features, weights: w, ridge: ridge)
        }
      }
      add("bilevel", "ridge logistic 40 x 200", "implicit CG to 1e-10", cg)
      add(
        "bilevel", "ridge logistic 40 x 200", "implicit Woodbury (rank 40)", woodbury,
        ratio: woodbury.median / cg.median)
    }

    // y*(x) as a value: the gradient of F through argmin against implicitHypergradient on
    // the same problem (per-feature L2 logistic regression, 500 samples, d features), the
    // Hessian of F by columns of forward-over-reverse, and checkpointed unrolling's time.
    for d in quick ? [20] : [20, 100] {
      progress.update("bench: argmin layer d = \(d)")
      let features = Tensor(randomNormal: [500, d], seed: 21)
      let labels = Tensor(Tensor(randomNormal: [500], seed: 22).scalars.map { $0 > 0 ? 1 : 0 })
      let validation = Tensor(randomNormal: [300, d], seed: 23)
      let validationLabels = Tensor(Tensor(randomNormal: [300], seed: 24).scalars.map { $0 > 0 ? 1 : 0 })
      let f = { (_: Tensor, w: Tensor) -> Tensor in
        let z = matmul(validation, w)
        return (softplus(z) - validationLabels * z).mean()
      }
      let g = { (lambda: Tensor, w: Tensor) -> Tensor in
        let z = matmul(features, w)
        return (softplus(z) - labels * z).mean() + 0.5 * (exp(lambda) * w.squared()).sum()
      }
      let problem = BilevelProblem(outer: f, inner: g)
      let x = Tensor(shape: [d], repeating: -2)
      let y = problem.solveInner(x: x, y0: Tensor.zeros([d]), tolerance: 1e-12).solution
      let cg = LinearSolver.conjugateGradient(maxIterations: 1000, tolerance: 1e-10)
      func F(_ x: Tensor) -> Tensor { f(x, argmin(at: x, from: y, linearSolver: cg, of: g)) }
      let implicit = timing(repeats: repeats) { _ = problem.implicitHypergradient(x: x, y: y, solver: cg) }
      let layer = timing(repeats: repeats) { _ = gradient(at: x, of: F) }
      let name = "argmin layer d = \(d)"
      add("implicit layer", name, "implicitHypergradient, CG to 1e-10", implicit, ratio: 1)
      add(
        "implicit layer", name, "gradient of f(x, argmin(x)), CG to 1e-10", layer, ratio: layer.median / implicit.median
      )
      let hessianColumns = timing(repeats: max(1, repeats / 5), warmup: 1) {
        for j in 0..<d {
          var e = [Double](repeating: 0, count: d)
          e[j] = 1
          _ = jvp(at: x, direction: Tensor(e)) { x in gradient(at: x, of: F) }
        }
      }
      add(
        "implicit layer", name, "Hessian of F, \(d) forward-over-reverse columns", hessianColumns, unit: "µs",
        ratio: hessianColumns.median / implicit.median)
    }
    do {
      let d = 100
      let task = QuadraticBilevel(innerDimension: d, conditionNumber: 100, seed: 0)
      let x = Tensor(randomNormal: [d], seed: 1)
      for k in quick ? [100] : [100, 1000] {
        progress.update("bench: checkpointed unrolling K = \(k)")
        let r = max(1, repeats / (k / 10 + 2))
        let plain = timing(repeats: r, warmup: 1) {
          _ = task.problem.unrolledHypergradient(x: x, y0: Tensor.zeros([d]), steps: k, innerLearningRate: 0.01)
        }
        let every = Int(Double(k).squareRoot().rounded())
        let remat = timing(repeats: r, warmup: 1) {
          _ = task.problem.unrolledHypergradient(
            x: x, y0: Tensor.zeros([d]), steps: k, innerLearningRate: 0.01, mode: .checkpointed(every: every))
        }
        add("implicit layer", "quadratic d = \(d)", "unrolled reverse K = \(k)", plain, ratio: 1)
        add(
          "implicit layer", "quadratic d = \(d)", "unrolled checkpointed every \(every), K = \(k)", remat,
          ratio: remat.median / plain.median)
      }
    }

    // Memory of reverse versus forward unrolling.
    if !quick {
      progress.update("bench: memory")
      let d = 100
      let task = QuadraticBilevel(innerDimension: d, conditionNumber: 100, seed: 0)
      let x = Tensor(randomNormal: [d], seed: 1)
      for (label, mode) in [
        ("reverse", UnrollMode.reverse), ("forward", .forward), ("checkpointed every 32", .checkpointed(every: 32)),
      ] {
        for k in [100, 1000] {
          let before = PeakMemory.reset()
          _ = task.problem.unrolledHypergradient(
            x: x, y0: Tensor.zeros([d]), steps: k, innerLearningRate: 0.01, mode: mode)
          let peak = PeakMemory.current()
          let bytes = Double(max(peak - before, 0))
          add(
            "memory", "quadratic d = \(d)", "\(label) unrolling K = \(k): peak RSS growth (KiB)",
            (bytes / 1024, bytes / 1024, bytes / 1024), unit: "KiB")
        }
      }
    }
    progress.finish()

    var table = TextTable(
      title:
        "bilevel-cli bench (median of at least \(repeats) runs after warm-up, more for fast cases; min and max; \(KernelPath.current) kernels)",
      headers: ["case", "operation", "median", "min", "max", "unit", "ratio to gradient"])
    for row in rows {
      table.append([
        row.name, row.operation, TextTable.format(row.median, significantDigits: 4),
        TextTable.format(row.minimum, significantDigits: 4),
        TextTable.format(row.maximum, significantDigits: 4), row.unit,
        row.ratio.map { TextTable.format($0, significantDigits: 3) } ?? "",
      ])
    }
    console.output(table.rendered() + "\n")
    if arguments.contains("json") {
      let path = try arguments.path("json")
      guard let text = try? JSONWriter.encode(rows) else {
        throw CLIError.runFailed("could not encode the benchmark as JSON")
      }
      try OutputFile.write(text + "\n", to: path, console: console)
    }
  }

  /// Microseconds per operation of a chain of `count` operations.
  static func perOperation(_ t: (median: Double, min: Double, max: Double), count: Double = 100) -> (
    median: Double, min: Double, max: Double
  ) {
    (t.median / count, t.min / count, t.max / count)
  }
}

/// The process's peak resident set (Linux: VmHWM, reset through /proc/self/clear_refs).
enum PeakMemory {
  /// Returns freed heap memory to the system (so that reuse of memory freed by earlier
  /// cases does not hide growth), resets the peak to the current resident set and
  /// returns it, in bytes.
  static func reset() -> Int {
    #if canImport(Glibc)
      // malloc_trim is not in Swift's Glibc module; look it up (RTLD_DEFAULT is null).
      if let symbol = dlsym(nil, "malloc_trim") {
        typealias Trim = @convention(c) (Int) -> Int32
        _ = unsafeBitCast(symbol, to: Trim.self)(0)
      }
    #endif
    if let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") {
      handle.write(Data("5".utf8))
      try? handle.close()
    }
    return current()
  }

  /// The peak resident set since the last reset, in bytes (0 where unknown).
  static func current() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
      let digits = line.split(separator: " ").compactMap { Int($0) }
      return (digits.first ?? 0) * 1024
    }
    return 0
  }
}
