import Autodiff
import BilevelAD
import Testing

/// Ridge logistic regression with more features than samples, the shape Woodbury is for:
///
///     g(x, w) = mean(softplus(X w) − t ⊙ X w) + ½ exp(x) ‖w‖²     X: 40 × 200
///     f(x, w) = mean(softplus(V w) − s ⊙ V w)                      V: 30 × 200
struct WideRidgeLogistic {
  let features: Tensor
  let problem: BilevelProblem

  init(samples: Int = 40, validation: Int = 30, featureCount: Int = 200, seed: UInt64 = 21) {
    let truth = Tensor(randomNormal: [featureCount], seed: seed)
    func labels(_ data: Tensor, seed: UInt64) -> Tensor {
      let noise = Tensor(randomNormal: [data.shape[0]], seed: seed).scalars
      return Tensor(zip(matmul(data, truth).scalars, noise).map { $0 + 0.5 * $1 > 0 ? 1 : 0 })
    }
    let train = Tensor(randomNormal: [samples, featureCount], seed: seed &+ 1) / Double(featureCount).squareRoot()
    let trainLabels = labels(train, seed: seed &+ 2)
    let valid = Tensor(randomNormal: [validation, featureCount], seed: seed &+ 3) / Double(featureCount).squareRoot()
    let validLabels = labels(valid, seed: seed &+ 4)
    features = train
    problem = BilevelProblem(
      outer: { _, w in
        let z = matmul(valid, w)
        return (softplus(z) - validLabels * z).mean()
      },
      inner: { x, w in
        let z = matmul(train, w)
        return (softplus(z) - trainLabels * z).mean() + 0.5 * (exp(x) * w.squared()).sum()
      })
  }

  /// The structure of ∇²_ww g at (x, w), with the ridge weight scaled by `ridgeFactor`
  /// (1 for the true structure).
  func structure(ridgeFactor: Double = 1) -> (Tensor, Tensor) -> WoodburyStructure {
    let features = self.features
    return { x, w in .ridgeLogistic(features: features, weights: w, ridge: ridgeFactor * exp(x).scalar) }
  }
}

@Suite("Sherman-Morrison-Woodbury hypergradient")
struct WoodburyTests {
  /// The task, x = log λ = −2, and the inner solution at x.
  static func fixture() -> (task: WideRidgeLogistic, x: Tensor, y: Tensor) {
    let task = WideRidgeLogistic()
    let x: Tensor = [-2]
    let inner = task.problem.solveInner(x: x, y0: Tensor.zeros([200]), tolerance: 1e-12, maxIterations: 100)
    return (task, x, inner.solution)
  }

  @Test("equals the dense implicit hypergradient to 1e-9 with one product, one cross product, ∇f and ∇_y g")
  func matchesDense() {
    let (task, x, y) = Self.fixture()
    let woodbury = task.problem.woodburyHypergradient(x: x, y: y, structure: task.structure())
    let dense = task.problem.implicitHypergradient(x: x, y: y, solver: .dense, innerTolerance: 1e-8)
    #expect(woodbury.converged, "\(woodbury.diagnostics)")
    #expect(dense.converged, "\(dense.diagnostics)")
    #expect(relativeError(woodbury.gradient, dense.gradient) < 1e-9)
    #expect(relativeError(woodbury.linearSolution!, dense.linearSolution!) < 1e-9)
    #expect(woodbury.iterations == 40)
    var expected = OracleCounts()
    expected.hessianVectorProducts = 1
    expected.crossProducts = 1
    expected.outerGradientX = 1
    expected.outerGradientY = 1
    expected.innerGradientY = 1
    #expect(woodbury.counts == expected, "\(woodbury.counts)")
  }

  @Test("a wrong structure (ridge 2λ) is caught by the residual check")
  func wrongStructure() {
    let (task, x, y) = Self.fixture()
    let outerGradientNorm = task.problem.makeOracles().outerGradients(x: x, y: y).y.norm().scalar
    let wrong = task.problem.woodburyHypergradient(x: x, y: y, structure: task.structure(ridgeFactor: 2))
    let right = task.problem.woodburyHypergradient(x: x, y: y, structure: task.structure())
    print("woodbury residuals: wrong \(wrong.residualNorm), right \(right.residualNorm), ‖∇_y f‖ \(outerGradientNorm)")
    #expect(!wrong.converged)
    #expect(wrong.residualNorm > 1e-2 * outerGradientNorm)
    #expect(wrong.diagnostics.contains("relative residual"))
    #expect(right.converged)
    #expect(right.residualNorm < 1e-8 * outerGradientNorm)
  }

  @Test("the structure's solve inverts its product", arguments: [1, 3, 8])
  func solveInvertsProduct(rank: Int) {
    let n = 12
    let structure = WoodburyStructure(
      diagonal: Tensor(randomUniform: [n], in: 0.5...2, seed: 3), u: Tensor(randomNormal: [n, rank], seed: 4),
      v: Tensor(randomNormal: [rank, n], seed: 5) / 4)
    let b = Tensor(randomNormal: [n], seed: 6)
    let solution = structure.solve(b)!
    #expect(relativeError(structure.applied(to: solution), b) < 1e-12)
  }

  @Test("a singular capacitance matrix gives no solution")
  func singularCapacitance() {
    // H = I − e₁ e₁ᵀ is singular: I + V A⁻¹ U = 1 − 1 = 0.
    let e1 = Tensor(shape: [3, 1], scalars: [1, 0, 0])
    let structure = WoodburyStructure(scale: 1, u: e1, v: -e1.transposed())
    #expect(structure.solve(Tensor([1, 2, 3])) == nil)
  }

  @Test("a structure of the wrong size is a programmer error")
  func wrongSize() async {
    await #expect(processExitsWith: .failure) {
      let task = WideRidgeLogistic(samples: 4, validation: 3, featureCount: 6)
      _ = task.problem.woodburyHypergradient(x: [0], y: Tensor.zeros([6])) { _, _ in
        WoodburyStructure(scale: 1, u: Tensor.zeros([5, 2]), v: Tensor.zeros([2, 5]))
      }
    }
  }
}

@Suite("Woodbury on the bundled breast-cancer task")
struct HyperparameterWoodburyTests {
  @Test("the diagonal-plus-low-rank structure of the hyperparam task gives the dense hypergradient")
  func breastCancer() throws {
    let task = HyperparameterSelection(data: try Dataset.bundled(.breastCancer), seed: 0)
    let lambda = Tensor(shape: task.outerShape, repeating: -2)
    let inner = task.problem.solveInner(x: lambda, y0: Tensor.zeros(task.innerShape), tolerance: 1e-12)
    let woodbury = task.problem.woodburyHypergradient(x: lambda, y: inner.solution) { x, y in
      task.woodburyStructure(lambda: x, theta: y)
    }
    let dense = task.problem.implicitHypergradient(x: lambda, y: inner.solution, solver: .dense)
    #expect(woodbury.converged, "\(woodbury.diagnostics)")
    #expect((woodbury.gradient - dense.gradient).norm().scalar <= 1e-9 * dense.gradient.norm().scalar)
    #expect(woodbury.counts.hessianVectorProducts == 1)
  }
}
