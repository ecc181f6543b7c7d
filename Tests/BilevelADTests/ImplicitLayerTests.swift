import Autodiff
import BilevelAD
import Foundation
import TestSupport
import Testing

// y*(x) as a differentiable value: argmin, root, fixedPoint and the differentiable linear
// solve, against closed forms, finite differences, the implicit hypergradient, and across
// the three HVP modes.

/// g(x, y) = ½ yᵀ A y − yᵀ B x, y*(x) = A⁻¹ B x; f = ½ ‖y − c‖² + ½ ρ ‖x‖².
private struct QuadraticLayer {
  let a: Tensor, b: Tensor, c: Tensor
  let rho = 0.3
  let x = Tensor([0.4, -0.7, 1.1])
  let y0 = Tensor.zeros([4])

  init() {
    let q = Tensor(randomNormal: [4, 4], seed: 5)
    a = matmul(q, transposed: true, q) / 4 + Tensor.identity(4)
    b = Tensor(randomNormal: [4, 3], seed: 6)
    c = Tensor(randomNormal: [4], seed: 7)
  }

  func g(_ x: Tensor, _ y: Tensor) -> Tensor { 0.5 * dot(y, matmul(a, y)) - dot(y, matmul(b, x)) }
  func ystar(_ x: Tensor, record: ImplicitRecord? = nil) -> Tensor {
    argmin(at: x, from: y0, record: record) { x, y in g(x, y) }
  }
  func F(_ x: Tensor) -> Tensor { 0.5 * (ystar(x) - c).squared().sum() + 0.5 * rho * x.squared().sum() }

  /// A⁻¹ B by dense solves.
  var jacobian: Tensor {
    let inverse = Tensor(
      stacking: (0..<4).map { j -> Tensor in
        var e = [Double](repeating: 0, count: 4)
        e[j] = 1
        return linearSolve(Tensor(e), parameters: [Tensor]()) { _, u in matmul(a, u) }
      })  // rows: A⁻¹ e_j, A symmetric
    return matmul(inverse, b)
  }
}

@Suite("Implicit layers: y*(x) as a value")
struct ImplicitLayerTests {
  @Test("quadratic argmin: value, Jacobian by forward and by reverse mode, gradient and Hessian of F in every mode")
  func quadraticClosedForms() {
    let task = QuadraticLayer()
    let j = task.jacobian
    let y = task.ystar(task.x)
    expectClose(y, matmul(j, task.x), tolerance: 1e-9, "y*(x) = A⁻¹ B x")
    // jacobian picks forward mode here (4 outputs > 3 inputs); build the reverse one by pullbacks.
    let forward = jacobian(at: task.x) { x in task.ystar(x) }
    let back = pullback(at: task.x) { x in task.ystar(x) }
    let reverse = Tensor(
      stacking: (0..<4).map { i -> Tensor in
        var e = [Double](repeating: 0, count: 4)
        e[i] = 1
        return back(Tensor(e))
      })
    expectClose(forward, j, tolerance: 1e-9, "forward Jacobian")
    expectClose(reverse, j, tolerance: 1e-9, "reverse Jacobian")
    let exactGradient = matmul(j, transposed: true, y - task.c) + task.rho * task.x
    expectClose(gradient(at: task.x, of: task.F), exactGradient, tolerance: 1e-9, "∇F")
    let exactHessian = matmul(j, transposed: true, j) + task.rho * Tensor.identity(3)
    expectClose(hessian(at: task.x, of: task.F), exactHessian, tolerance: 1e-9, "∇²F")
    let v = Tensor([1.0, -2.0, 0.5])
    for mode in HVPMode.allCases {
      expectClose(
        hvp(at: task.x, direction: v, mode: mode, of: task.F), matmul(exactHessian, v), tolerance: 1e-9, "hvp \(mode)")
    }
    let (_, dF) = jvp(at: task.x, direction: v, of: task.F)
    expectClose(dF.scalar, dot(exactGradient, v).scalar, tolerance: 1e-9, "jvp of F")
  }

  @Test("ridge logistic with weights exp(x): gradient, jvp, Hessian, Jacobian and a third-order quantity")
  func ridgeLogistic() {
    let task = PerFeatureRidgeLogistic()
    let problem = task.problem
    let x = Tensor([-1.0, 0.5, 0.0, -0.3, 0.8])
    let y0 = Tensor.zeros([task.features])
    let record = ImplicitRecord()
    func ystar(_ x: Tensor) -> Tensor { argmin(at: x, from: y0, record: record) { x, y in problem.inner(x, y) } }
    func F(_ x: Tensor) -> Tensor { problem.outer(x, ystar(x)) }

    let inner = problem.solveInner(x: x, y0: y0, tolerance: 1e-12)
    let implicit = problem.implicitHypergradient(x: x, y: inner.solution, solver: .dense)
    let grad = gradient(at: x, of: F)
    expectClose(grad, implicit.gradient, tolerance: 1e-9, "gradient through argmin vs implicitHypergradient(.dense)")
    let v = Tensor([0.3, -1.0, 0.7, 0.2, -0.4])
    expectClose(jvp(at: x, direction: v, of: F).tangent.scalar, dot(grad, v).scalar, tolerance: 1e-10, "jvp = ⟨∇F, v⟩")

    // The Hessian of F against central differences of the implicit hypergradient.
    let h = hessian(at: x, of: F)
    let step = 1e-5
    let columns = (0..<5).map { j -> Tensor in
      var e = [Double](repeating: 0, count: 5)
      e[j] = step
      func hypergradient(_ x: Tensor) -> Tensor {
        let y = problem.solveInner(x: x, y0: inner.solution, tolerance: 1e-13).solution
        return problem.implicitHypergradient(x: x, y: y, solver: .dense).gradient
      }
      return (hypergradient(x + Tensor(e)) - hypergradient(x - Tensor(e))) / (2 * step)
    }
    expectClose(h, Tensor(stacking: columns).transposed(), tolerance: 1e-5, "∇²F vs finite differences")
    expectClose(h, h.transposed(), tolerance: 1e-10, "∇²F symmetric")

    // dy*/dx by forward (jacobian: 5 outputs ≤ 5 inputs uses reverse; jvp columns are forward).
    let reverse = jacobian(at: x, of: ystar)
    let forward = Tensor(
      stacking: (0..<5).map { j -> Tensor in
        var e = [Double](repeating: 0, count: 5)
        e[j] = 1
        return jvp(at: x, direction: Tensor(e), of: ystar).tangent
      }
    ).transposed()
    expectClose(forward, reverse, tolerance: 1e-10, "forward = reverse for dy*/dx")
    // The same columns as one batch of directions through the layer (its rules run row by row).
    let (_, batch) = jvp(at: x, directions: Tensor.identity(5), of: ystar)
    expectClose(batch.transposed(), reverse, tolerance: 1e-10, "a batch of directions through argmin")

    // Third order: ∇_x (vᵀ ∇²F(x) v) against central differences of vᵀ ∇²F v.
    func curvature(_ x: Tensor) -> Tensor { dot(v, hvp(at: x, direction: v, of: F)) }
    let third = gradient(at: x, of: curvature)
    let numeric = numericalGradient(at: x, step: 1e-4, of: curvature)
    expectClose(third, numeric, tolerance: 1e-5, "third-order quantity vs finite differences")
    #expect(record.allConverged, "\(record.failures)")
    #expect(record.entries.contains { $0.kind == .linearSolve })
  }

  @Test("fixedPoint on contractions with closed forms: value, Jacobian (both modes) and Hessian")
  func fixedPoints() {
    // Linear: y = M y + x, y* = (I − M)⁻¹ x.
    let m = Tensor(randomNormal: [3, 3], seed: 9) * 0.2
    let x = Tensor([0.5, -1.0, 2.0])
    let ystar = { (x: Tensor) in fixedPoint(at: x, from: Tensor.zeros([3])) { x, y in matmul(m, y) + x } }
    let inverse = Tensor(
      stacking: (0..<3).map { j -> Tensor in
        var e = [Double](repeating: 0, count: 3)
        e[j] = 1
        return linearSolve(Tensor(e), parameters: [m], symmetric: false, solver: .dense) { p, u in u - matmul(p[0], u) }
      }
    ).transposed()
    expectClose(ystar(x), matmul(inverse, x), tolerance: 1e-9, "value")
    expectClose(jacobian(at: x, of: ystar), inverse, tolerance: 1e-9, "reverse Jacobian (I − M)⁻¹")
    let forwardColumn = jvp(at: x, direction: Tensor([0, 1, 0]), of: ystar).tangent
    expectClose(forwardColumn, matmul(inverse, Tensor([0, 1, 0])), tolerance: 1e-9, "forward column")
    // Nonlinear: y = ½ y + ½ x², y* = x²: ∇ Σ y* = 2x, ∇² Σ y* = 2 I, in every mode.
    let square = { (x: Tensor) in
      fixedPoint(at: x, from: Tensor.zeros([3])) { x, y in 0.5 * y + 0.5 * x.squared() }.sum()
    }
    expectClose(gradient(at: x, of: square), 2 * x, tolerance: 1e-9, "∇ Σ x²")
    expectClose(hessian(at: x, of: square), 2 * Tensor.identity(3), tolerance: 1e-9, "∇² Σ x²")
    for mode in HVPMode.allCases {
      expectClose(
        hvp(at: x, direction: Tensor([1, 2, 3]), mode: mode, of: square), Tensor([2, 4, 6]), tolerance: 1e-9, "\(mode)")
    }
  }

  @Test("root of y³ + y − x: first and second derivatives by Newton's value and implicit rules")
  func rootCubic() {
    let x = Tensor([0.5, 2.0, -3.0])
    let y = { (x: Tensor) in root(at: x, from: Tensor.zeros([3])) { x, y in y * y * y + y - x } }
    let value = y(x)
    expectClose(value * value * value + value, x, tolerance: 1e-10, "y³ + y = x")
    let first = 1 / (3 * value.squared() + 1)
    expectClose(gradient(at: x) { y($0).sum() }, first, tolerance: 1e-9, "dy/dx = 1 / (3y² + 1)")
    let second = -6 * value * first * first * first
    expectClose(
      hvp(at: x, direction: Tensor.ones([3])) { y($0).sum() }, second, tolerance: 1e-8, "d²y/dx² = −6y (dy/dx)³")
    // A user-given solver gives the same layer.
    let given = root(at: x, from: Tensor.zeros([3]), solve: { _, _ in value }) { x, y in y * y * y + y - x }
    expectClose(given, value, tolerance: 0, "user-given solver")
  }

  @Test("linearSolve alone: derivatives in b and in the operator's parameters, symmetric and not")
  func linearSolveDerivatives() {
    let k = Tensor(randomNormal: [4, 4], seed: 12)
    let base = matmul(k, transposed: true, k) / 4
    let b = Tensor([1.0, -2.0, 0.5, 3.0])
    let p = Tensor([0.1, -0.2, 0.3, 0.0])
    // A(p) = diag(exp(p)) + K Kᵀ/4 (symmetric positive definite).
    func solve(_ b: Tensor, _ p: Tensor) -> Tensor {
      linearSolve(b, parameters: p) { p, u in exp(p) * u + matmul(base, u) }
    }
    let matrix = Tensor.identity(4) * exp(p).reshaped(to: [1, 4]) + base  // diag(exp(p)) + base
    let v = solve(b, p)
    expectClose(matmul(matrix, v), b, tolerance: 1e-10, "A v = b")
    expectClose(
      jacobian(at: b) { b in solve(b, p) }, jacobian(at: b) { b in solve(b, p) }.transposed(), tolerance: 1e-9,
      "A⁻¹ symmetric")
    expectClose(
      matmul(matrix, jacobian(at: b) { b in solve(b, p) }), Tensor.identity(4), tolerance: 1e-9, "∂v/∂b = A⁻¹")
    let w = Tensor([0.2, 1.0, -1.0, 0.4])
    let objective = { (p: Tensor) in dot(w, solve(b, p)) }
    expectClose(gradient(at: p, of: objective), numericalGradient(at: p, of: objective), tolerance: 1e-7, "∂/∂p vs FD")
    expectClose(
      hessian(at: p, of: objective), numericalJacobian(at: p) { p in gradient(at: p, of: objective) }, tolerance: 1e-6,
      "∂²/∂p² vs FD")
    // Nonsymmetric: A(p) = diag(exp(p)) + N, solved by GMRES and by dense LU.
    let n = Tensor(randomNormal: [4, 4], seed: 13) * 0.3
    for solver in [LinearSolver.gmres(maxIterations: 100, restart: 10, tolerance: 1e-13), .dense] {
      let nonsymmetric = { (p: Tensor) in
        dot(w, linearSolve(b, parameters: p, symmetric: false, solver: solver) { p, u in exp(p) * u + matmul(n, u) })
      }
      expectClose(
        gradient(at: p, of: nonsymmetric), numericalGradient(at: p, of: nonsymmetric), tolerance: 1e-7,
        "nonsymmetric \(solver.name)")
      let forward = jvp(at: p, direction: w, of: nonsymmetric).tangent.scalar
      expectClose(
        forward, dot(gradient(at: p, of: nonsymmetric), w).scalar, tolerance: 1e-10, "forward = reverse \(solver.name)")
    }
  }

  @Test("the record flags an inner problem stopped early, an indefinite Hessian and a CG budget too small")
  func certificate() {
    let task = QuadraticLayer()
    // Stopped early: one gradient step cannot solve the inner problem.
    let early = ImplicitRecord()
    _ = gradient(at: task.x) { x in
      argmin(at: x, from: task.y0, maxIterations: 1, method: .gradientDescent, record: early) { x, y in task.g(x, y) }
        .sum()
    }
    #expect(!early.allConverged)
    #expect(early.entries.first { $0.kind == .value }?.converged == false)
    #expect(early.failures.first?.contains("argmin value") == true, "\(early.failures)")

    // A CG budget too small for the derivative rule's system, even when flowing through a Hessian.
    let budget = ImplicitRecord()
    _ = hessian(at: task.x) { x in
      argmin(at: x, from: task.y0, linearSolver: .conjugateGradient(maxIterations: 1, tolerance: 1e-12), record: budget)
      {
        x, y in task.g(x, y)
      }.squared().sum()
    }
    #expect(budget.entries.first { $0.kind == .value }?.converged == true)
    #expect(budget.entries.contains { $0.kind == .linearSolve && !$0.converged })
    #expect(!budget.allConverged)

    // Negative curvature: g(x, y) = ½ yᵀ D y − y·x with D indefinite has a stationary point
    // (a saddle) that Newton's root finder reaches; CG meets the negative curvature.
    let d = Tensor([2.0, -1.0])
    let saddle = ImplicitRecord()
    _ = gradient(at: Tensor([1.0, 1.0])) { x in
      root(at: x, from: Tensor.zeros([2])) { x, y in d * y - x }.sum()  // the saddle itself is fine as a root
        + argmin(at: x, from: Tensor([0.5, -1.0]), maxIterations: 0, record: saddle) { x, y in
          0.5 * dot(y, d * y) - dot(y, x)
        }.sum()
    }
    #expect(saddle.entries.contains { $0.indefinite }, "\(saddle.entries)")
  }

  @Test("Neumann and identity linear solvers are accepted and approximate, with their residuals recorded")
  func approximateSolvers() {
    let task = QuadraticLayer()
    let exact = gradient(at: task.x, of: task.F)
    for (solver, level) in [
      (LinearSolver.neumann(terms: 400, stepSize: 0.3, tolerance: 1e-8), 1e-6), (.identity(scale: 2), 2.0),
    ] {
      let record = ImplicitRecord()
      let approximate = gradient(at: task.x) { x in
        let y = argmin(at: x, from: task.y0, linearSolver: solver, record: record) { x, y in task.g(x, y) }
        return 0.5 * (y - task.c).squared().sum() + 0.5 * task.rho * x.squared().sum()
      }
      let error = (approximate - exact).norm().scalar / exact.norm().scalar
      #expect(error < level, "\(solver.name): \(error)")
      #expect(record.largestResidual(of: .linearSolve) > 0)
      if solver.name == "identity" { #expect(!record.allConverged, "H ≈ 2 I is far from this Hessian: flagged") }
    }
  }

  @Test("a tensor being differentiated that g captures stops the program, instead of losing its derivative")
  func capturedTracer() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      // w is differentiated by the outer jvp but reaches g by capture, not through x.
      _ = jvp(at: Tensor([2.0]), direction: Tensor([1.0])) { w in
        argmin(at: Tensor([1.0]), from: Tensor([0.0])) { x, y in 0.5 * (w * y.squared()).sum() - (x * y).sum() }
      }
    }
    let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(text.contains("argmin: g captures a tensor that is being differentiated"), "\(text)")
  }

  @Test("structured x and y go through argmin, and its Hessian is the flat one")
  func structures() {
    let task = QuadraticLayer()
    let x: [String: Tensor] = ["a": task.x.slicing(0..<1), "b": task.x.slicing(1..<3)]
    let y0: [Tensor] = [Tensor.zeros([2]), Tensor.zeros([2])]
    func F(_ x: [String: Tensor]) -> Tensor {
      let y = argmin(at: x, from: y0) { x, y in task.g(x.flattened(), y.flattened()) }
      return 0.5 * (y.flattened() - task.c).squared().sum() + 0.5 * task.rho * dot(x, x)
    }
    expectClose(gradient(at: x, of: F).flattened(), gradient(at: task.x, of: task.F), tolerance: 1e-9, "gradient")
    expectClose(hessian(at: x, of: F), hessian(at: task.x, of: task.F), tolerance: 1e-9, "hessian")
  }

  @Test("the calls a user writes compile as written and agree with the closed forms")
  func callsAsWritten() {
    let task = QuadraticLayer()
    let (x, y0, v) = (task.x, task.y0, Tensor([1.0, 0.0, -1.0]))
    let f: (Tensor, Tensor) -> Tensor = { x, y in
      0.5 * (y - task.c).squared().sum() + 0.5 * task.rho * x.squared().sum()
    }
    let g: (Tensor, Tensor) -> Tensor = { x, y in task.g(x, y) }

    let F: (Tensor) -> Tensor = { x in f(x, argmin(at: x, from: y0) { x, y in g(x, y) }) }
    let grad = gradient(at: x, of: F)  // the hypergradient, by ordinary reverse mode
    let (_, dF) = jvp(at: x, direction: v, of: F)  // forward mode through y*(x)
    let H = hessian(at: x, of: F)  // Newton on the outer problem
    let J = jacobian(at: x) { x in argmin(at: x, from: y0) { x, y in g(x, y) } }  // dy*/dx

    expectClose(J, task.jacobian, tolerance: 1e-9, "J")
    expectClose(
      H, matmul(task.jacobian, transposed: true, task.jacobian) + task.rho * Tensor.identity(3), tolerance: 1e-9, "H")
    expectClose(dF.scalar, dot(grad, v).scalar, tolerance: 1e-10, "jvp")
  }

  @Test("fixedPoint and root over structures")
  func structuredFixedPoint() {
    // y = {"a": ½ a + ½ x₀², "b": ½ b + x₁}: fixed point a = x₀², b = 2 x₁.
    let x: [Tensor] = [Tensor([1.5]), Tensor([-0.5, 2.0])]
    let y0: [String: Tensor] = ["a": Tensor([0.0]), "b": Tensor([0.0, 0.0])]
    func G(_ x: [Tensor]) -> Tensor {
      let y = fixedPoint(at: x, from: y0) { (x: [Tensor], y: [String: Tensor]) -> [String: Tensor] in
        let a: Tensor = 0.5 * y["a"]! + 0.5 * x[0].squared()
        let b: Tensor = 0.5 * y["b"]! + x[1]
        return ["a": a, "b": b]
      }
      return y["a"]!.sum() + y["b"]!.squared().sum()
    }
    // G = x₀² + 4 Σ x₁²: ∇ = (2 x₀, 8 x₁).
    let g = gradient(at: x, of: G)
    expectClose(g[0], Tensor([3.0]), tolerance: 1e-9, "∂/∂x₀")
    expectClose(g[1], Tensor([-4.0, 16.0]), tolerance: 1e-9, "∂/∂x₁")
    expectClose(
      hessian(at: x, of: G), Tensor(shape: [3, 3], scalars: [2, 0, 0, 0, 8, 0, 0, 0, 8]), tolerance: 1e-9, "∇²")
    let r = root(at: x, from: y0) { (x: [Tensor], y: [String: Tensor]) -> [String: Tensor] in
      let a: Tensor = y["a"]! - x[0].squared()
      let b: Tensor = y["b"]! - 2 * x[1]
      return ["a": a, "b": b]
    }
    expectClose(r["b"]!, Tensor([-1.0, 4.0]), tolerance: 1e-10, "root over structures")
  }

  @Test("Newton's method on F through argmin converges quadratically (per-feature L2, breast cancer)")
  func newtonOnOuterProblem() throws {
    let data = try Dataset.bundled(.breastCancer)
    let small = Dataset(
      features: data.features.slicing(0..<6, alongAxis: 1), labels: data.labels, classCount: 2)
    let task = HyperparameterSelection(data: small, trainSize: 120, validationSize: 120, seed: 1)
    let problem = task.problem
    var y = Tensor.zeros([7])
    var x = Tensor(shape: [6], repeating: -1)
    // The validation loss alone is flat along λ_j → ±∞ for features it does not need (the
    // measured Hessian had eigenvalues of -1e-13), so a small prior ½ ρ ‖λ‖² gives F a
    // strict minimum, as a user running Newton would add.
    func F(_ x: Tensor) -> Tensor {
      problem.outer(x, argmin(at: x, from: y) { x, y in problem.inner(x, y) }) + 0.005 * x.squared().sum()
    }
    var norms: [Double] = []
    let record = ImplicitRecord()
    for _ in 0..<12 {
      let g = gradient(at: x, of: F)
      norms.append(g.norm().scalar)
      if norms.last! < 1e-11 { break }
      let h = hessian(at: x, of: F)
      let step = linearSolve(g, parameters: [h], symmetric: true, solver: .dense, record: record) { p, u in
        matmul(p[0], u)
      }
      x = x - step
      y = problem.solveInner(x: x, y0: y, tolerance: 1e-12).solution
    }
    // Measured: ... 7.5e-4, 7.1e-5, 4.7e-7, 2.0e-11, 1.1e-17: ‖g_{k+1}‖ ≈ 93 ‖g_k‖² at every
    // step of the tail until rounding (1e-17) is reached. Asserted: the last steps above
    // rounding contract quadratically (C = 1000), while a linear rate would not.
    #expect(norms.last! < 1e-12, "\(norms)")
    let tail = zip(norms.dropLast(), norms.dropFirst()).filter { $0.0 < 1e-3 && $0.1 > 1e-14 }
    #expect(tail.count >= 3, "\(norms)")
    for (previous, next) in tail { #expect(next <= 1000 * previous * previous, "\(norms)") }
    // Far from the minimum the Hessian of F is indefinite (reported, solved by LU); near
    // it, the last Newton systems are positive definite.
    #expect(record.entries.suffix(3).allSatisfy { $0.converged && !$0.indefinite }, "\(record.failures)")
  }
}
