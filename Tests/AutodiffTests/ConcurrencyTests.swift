import Autodiff
import Dispatch
import Foundation
import TestSupport
import Testing

// Thread safety: the library promises no global state, so independent
// differentiations may run on many threads at once. Each worker runs a
// deterministic workload (a pure function of its index) many times; every run
// must match the analytic answer and be bit-identical to a serial run.
//
// Results are collected in a lock-protected `LockedArray` and checked on the
// test's own thread (issues recorded from Dispatch worker threads would not
// be attributed to the test).

/// The outcome of one workload run: its flattened result and its error
/// against a closed form.
struct WorkloadResult: Sendable, Equatable {
  let index: Int
  let scalars: [Double]
  let errorVsClosedForm: Double
}

enum Workloads {
  static let count = 8
  static let repetitions = 10

  /// A deterministic workload; different indices differentiate different
  /// functions (and use different seeds and HVP modes).
  static func run(_ index: Int) -> WorkloadResult {
    let seed = UInt64(1000 + index)
    let modes = HVPMode.allCases
    let mode = modes[index % modes.count]
    switch index % 4 {
    case 0:
      // First order: gradient of sum(exp(x)) is exp(x).
      let x = randomTensor([6], seed: seed)
      let g = gradient(at: x) { exp($0).sum() }
      let error = maxRelativeError(g, mapScalars(x) { Foundation.exp($0) })
      return WorkloadResult(index: index, scalars: g.scalars, errorVsClosedForm: error)
    case 1:
      // Second order: hvp of the logistic loss against its analytic Hessian.
      let w = randomTensor([LogisticRegression.features], seed: seed)
      let v = randomTensor([LogisticRegression.features], seed: seed + 100)
      let hv = hvp(at: w, direction: v, mode: mode) { LogisticRegression.loss($0) }
      let expected = referenceMatVec(LogisticRegression.analyticHessian(w), v)
      return WorkloadResult(index: index, scalars: hv.scalars, errorVsClosedForm: maxRelativeError(hv, expected))
    case 2:
      // Full Hessian of Rosenbrock against its analytic Hessian.
      let x = randomTensor([4], seed: seed)
      let h = hessian(at: x) { Rosenbrock.value($0) }
      let error = maxRelativeError(h, Rosenbrock.analyticHessian(x))
      return WorkloadResult(index: index, scalars: h.scalars, errorVsClosedForm: error)
    default:
      // Custom rules and nesting: hvp of a custom cube (6 x v) plus the
      // fourth derivative of x^4 (24) by nested gradients.
      let cube = differentiableFunction(
        { x in x * x * x },
        jvp: { x, _, t in 3.0 * x * x * t },
        vjp: { x, _, c in 3.0 * x * x * c })
      let x = randomTensor([3], seed: seed)
      let v = randomTensor([3], seed: seed + 100)
      let hv = hvp(at: x, direction: v, mode: mode) { cube($0).sum() }
      let error1 = maxRelativeError(hv, zipScalars(x, v) { 6 * $0 * $1 })
      let s = Tensor(0.5 + Double(index) / 10)
      let d4 = gradient(at: s) { s in
        gradient(at: s) { s in
          gradient(at: s) { s in
            gradient(at: s) { s in s * s * s * s }
          }
        }
      }
      let error2 = maxRelativeError(d4.scalars[0], 24)
      return WorkloadResult(
        index: index, scalars: hv.scalars + d4.scalars, errorVsClosedForm: Swift.max(error1, error2))
    }
  }

  static func serialResults() -> [WorkloadResult] {
    (0..<count).map { run($0) }
  }

  static func check(
    _ results: [WorkloadResult], against serial: [WorkloadResult],
    expectedRuns: Int, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(results.count == expectedRuns, sourceLocation: sourceLocation)
    for serialResult in serial {
      #expect(
        serialResult.errorVsClosedForm <= 1e-10,
        "serial workload \(serialResult.index) error \(serialResult.errorVsClosedForm)",
        sourceLocation: sourceLocation)
    }
    for result in results {
      #expect(
        result.errorVsClosedForm <= 1e-10,
        "workload \(result.index) error \(result.errorVsClosedForm)",
        sourceLocation: sourceLocation)
      #expect(
        result == serial[result.index],
        "workload \(result.index) differs from the serial run",
        sourceLocation: sourceLocation)
    }
    for index in 0..<count {
      #expect(
        results.filter { $0.index == index }.count == expectedRuns / count,
        "workload \(index) ran the wrong number of times",
        sourceLocation: sourceLocation)
    }
  }
}

@Suite("Thread safety")
struct ConcurrencyTests {
  @Test("concurrentPerform: 8 workers differentiating different functions")
  func dispatchWorkers() {
    let serial = Workloads.serialResults()
    let results = LockedArray<WorkloadResult>()
    DispatchQueue.concurrentPerform(iterations: Workloads.count) { index in
      for _ in 0..<Workloads.repetitions {
        results.append(Workloads.run(index))
      }
    }
    Workloads.check(results.values, against: serial, expectedRuns: Workloads.count * Workloads.repetitions)
  }

  @Test("concurrentPerform: every worker runs every workload (interleaved)")
  func dispatchInterleaved() {
    let serial = Workloads.serialResults()
    let results = LockedArray<WorkloadResult>()
    DispatchQueue.concurrentPerform(iterations: Workloads.count) { worker in
      for step in 0..<Workloads.count {
        results.append(Workloads.run((worker + step) % Workloads.count))
      }
    }
    Workloads.check(results.values, against: serial, expectedRuns: Workloads.count * Workloads.count)
  }

  @Test("Task group: concurrent differentiation in child tasks")
  func taskGroup() async {
    let serial = Workloads.serialResults()
    let results = await withTaskGroup(of: [WorkloadResult].self) { group in
      for index in 0..<Workloads.count {
        group.addTask {
          (0..<Workloads.repetitions).map { _ in Workloads.run(index) }
        }
      }
      var all: [WorkloadResult] = []
      for await batch in group {
        all += batch
      }
      return all
    }
    Workloads.check(results, against: serial, expectedRuns: Workloads.count * Workloads.repetitions)
  }

  /// Uses dedicated `Thread`s (not pool threads), so waiting for them from
  /// the test cannot starve the workers.
  @Test("Threads: custom functions created and used on separate threads")
  func separateThreads() {
    let results = LockedArray<Double>()
    let group = DispatchGroup()
    for t in 0..<4 {
      group.enter()
      let thread = Thread {
        defer { group.leave() }
        let scale = Double(t + 1)
        let scaled = differentiableFunction(
          { x in scale * x.squared() },
          jvp: { x, _, tangent in 2.0 * scale * x * tangent },
          vjp: { x, _, cotangent in 2.0 * scale * x * cotangent })
        for _ in 0..<20 {
          let x = randomTensor([3], seed: UInt64(t))
          let v = randomTensor([3], seed: UInt64(t + 10))
          let hv = hvp(at: x, direction: v, mode: .reverseOverReverse) { scaled($0).sum() }
          let expected = mapScalars(v) { 2 * scale * $0 }
          results.append(maxRelativeError(hv, expected))
        }
      }
      thread.start()
    }
    group.wait()
    let errors = results.values
    #expect(errors.count == 80)
    #expect(errors.allSatisfy { $0 <= 1e-10 }, "max error \(errors.max() ?? .nan)")
  }
}
