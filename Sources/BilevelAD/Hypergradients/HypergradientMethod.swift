import Autodiff

/// The package's hypergradient estimators by name, as `bilevel-cli hypergradient --method`
/// runs them: one place that names each estimator and sets its defaults.
public enum HypergradientMethod: String, CaseIterable, Sendable {
  /// The implicit function theorem with conjugate gradient on HVPs to 1e-10.
  case implicitCG = "implicit-cg"
  /// The implicit function theorem with the dense Hessian and Cholesky.
  case implicitDense = "implicit-dense"
  /// The implicit function theorem with restarted GMRES (indefinite systems).
  case implicitGMRES = "implicit-gmres"
  /// A truncated Neumann series with `steps` terms and the inner step as its step.
  case neumann
  /// The Hessian-free approximation H ≈ I.
  case implicitIdentity = "implicit-identity"
  /// A Sherman-Morrison-Woodbury solve of a diagonal + low-rank inner Hessian.
  case implicitWoodbury = "implicit-woodbury"
  /// Reverse mode through `steps` inner gradient steps.
  case unrolledReverse = "unrolled-reverse"
  /// Forward mode through `steps` inner steps (dy/dx carried as one batch of columns).
  case unrolledForward = "unrolled-forward"
  /// Reverse mode through the last `steps / 4` of `steps` inner steps (K-RMD).
  case truncated
  /// Reverse mode through `steps` steps, storing every √steps-th state.
  case checkpointed
  /// The implicit hypergradient with finite-difference Hessian and Jacobian products.
  case finiteDifference = "finite-difference"
  /// F2SA's value-function direction with λ = 1e4.
  case penalty
  /// Gaussian smoothing of F with 20 antithetic directions.
  case zeroOrder = "zero-order"

  /// One line on what the method computes and with which defaults.
  public var summary: String {
    switch self {
    case .implicitCG: return "implicit function theorem, conjugate gradient on HVPs to 1e-10"
    case .implicitDense: return "implicit function theorem, dense Hessian and Cholesky"
    case .implicitGMRES: return "implicit function theorem, restarted GMRES (indefinite systems)"
    case .neumann: return "truncated Neumann series with --steps terms, step 1 / (2 × the task's inner step)⁻¹"
    case .implicitIdentity: return "Hessian-free approximation H ≈ I"
    case .implicitWoodbury:
      return
        "Sherman-Morrison-Woodbury solve of a diagonal + low-rank inner Hessian (hyperparam), checked by one HVP"
    case .unrolledReverse: return "reverse mode through --steps inner gradient steps"
    case .unrolledForward: return "forward mode through --steps inner steps (dy/dx carried as one batch of columns)"
    case .truncated: return "reverse mode through the last --steps / 4 of --steps inner steps (K-RMD)"
    case .checkpointed: return "reverse mode through --steps steps, storing every √steps-th state"
    case .finiteDifference: return "implicit with finite-difference Hessian and Jacobian products (HJFBiO)"
    case .penalty: return "F2SA's value-function direction with λ = 1e4"
    case .zeroOrder: return "Gaussian smoothing of F with 20 antithetic directions"
    }
  }

  /// The method's estimate of ∇F(x).
  ///
  /// - Parameters:
  ///   - problem: the bilevel problem.
  ///   - x: the outer variable.
  ///   - y: the inner solution y*(x) (implicit, finite-difference, penalty and zero-order
  ///     methods start from it).
  ///   - y0: the inner starting point of the unrolled methods.
  ///   - steps: unrolled steps, or Neumann terms.
  ///   - innerStep: the inner step of unrolling and of the Neumann series.
  ///   - seed: the zero-order method's seed.
  ///   - woodbury: the inner Hessian's structure (required by `.implicitWoodbury`).
  /// - Returns: the estimate with its oracle counts and diagnostics.
  public func estimate(
    _ problem: BilevelProblem, x: Tensor, y: Tensor, y0: Tensor, steps: Int, innerStep: Double, seed: UInt64 = 0,
    woodbury: ((Tensor, Tensor) -> WoodburyStructure)? = nil
  ) -> HypergradientResult<Tensor, Tensor> {
    switch self {
    case .implicitCG:
      return problem.implicitHypergradient(
        x: x, y: y, solver: .conjugateGradient(maxIterations: max(200, 2 * y.scalarCount), tolerance: 1e-10))
    case .implicitDense: return problem.implicitHypergradient(x: x, y: y, solver: .dense)
    case .implicitGMRES: return problem.implicitHypergradient(x: x, y: y, solver: .gmres())
    case .neumann:
      return problem.implicitHypergradient(x: x, y: y, solver: .neumann(terms: steps, stepSize: innerStep))
    case .implicitIdentity: return problem.implicitHypergradient(x: x, y: y, solver: .identity(scale: 1))
    case .implicitWoodbury:
      guard let woodbury else {
        fatalError("HypergradientMethod.implicitWoodbury needs the inner Hessian's structure (woodbury:)")
      }
      return problem.woodburyHypergradient(x: x, y: y, structure: woodbury)
    case .unrolledReverse:
      return problem.unrolledHypergradient(x: x, y0: y0, steps: steps, innerLearningRate: innerStep)
    case .unrolledForward:
      return problem.unrolledHypergradient(x: x, y0: y0, steps: steps, innerLearningRate: innerStep, mode: .forward)
    case .truncated:
      return problem.unrolledHypergradient(
        x: x, y0: y0, steps: steps, innerLearningRate: innerStep, mode: .truncated(lastSteps: max(1, steps / 4)))
    case .checkpointed:
      let every = max(1, Int(Double(steps).squareRoot()))
      return problem.unrolledHypergradient(
        x: x, y0: y0, steps: steps, innerLearningRate: innerStep, mode: .checkpointed(every: every))
    case .finiteDifference: return problem.finiteDifferenceHypergradient(x: x, y: y)
    case .penalty: return problem.penaltyHypergradient(x: x, y0: y, multiplier: 1e4)
    case .zeroOrder: return problem.zeroOrderHypergradient(x: x, y0: y, samples: 20, smoothing: 1e-4, seed: seed)
    }
  }
}
