import Foundation
import Synchronization

// Threads for the kernels' parallel loops.
//
// `DispatchQueue.concurrentPerform` wakes sleeping workers for every loop: measured on the
// project's 2-core machine, two 36 µs halves took 105 µs in parallel against 72 µs one
// after the other. The kernels' loops last tens to hundreds of microseconds, so they need
// workers that are already awake: these helpers spin for a short while after each loop
// (`spinTime`) before they block, as OpenMP runtimes do.

/// Runs `body(0) ... body(iterations − 1)` on the calling thread and up to
/// `maxThreads − 1` helper threads, returning when every call has returned.
///
/// Iterations are handed out one at a time, so uneven ones balance. Only one loop at a
/// time uses the helpers; a loop started while they are busy (another thread's) runs on
/// its own thread alone, which is correct and, on a machine this small, no slower.
///
/// - Parameters:
///   - iterations: the number of calls.
///   - maxThreads: the most threads to use, the caller's included.
///   - body: the work of one iteration; safe to call from several threads at once.
@usableFromInline
func parallelFor(iterations: Int, maxThreads: Int, _ body: @Sendable (Int) -> Void) {
  if iterations <= 0 { return }
  let pool = WorkerPool.shared
  if iterations <= 1 || maxThreads <= 1 || pool.helperCount == 0 || !pool.acquire() {
    for i in 0..<iterations { body(i) }
    return
  }
  defer { pool.release() }
  withoutActuallyEscaping(body) { body in
    pool.run(iterations: iterations, helpers: min(maxThreads - 1, pool.helperCount, iterations - 1), body)
  }
}

/// The helper threads behind `parallelFor`, started on first use.
final class WorkerPool: @unchecked Sendable {
  static let shared = WorkerPool(helpers: max(0, min(ProcessInfo.processInfo.activeProcessorCount, 16) - 1))

  /// How long a helper keeps polling for the next loop before it sleeps.
  static let spinTime: UInt64 = 200_000  // nanoseconds

  let helperCount: Int
  /// Whether a loop owns the helpers.
  private let owned = Atomic<Bool>(false)
  /// The posted loop's generation (high bits) and the helper places still open in it
  /// (low 8 bits). Helpers claim a place with a compare-and-swap that also checks the
  /// generation, so a helper that wakes late can neither join a finished loop nor take a
  /// place in a later one by mistake.
  private let ticket = Atomic<Int>(0)
  /// The next iteration to hand out, how many have finished, and how many helpers that
  /// claimed a place are done with the loop.
  private let next = Atomic<Int>(0)
  private let finished = Atomic<Int>(0)
  private let checkedIn = Atomic<Int>(0)
  private let sleepers = Atomic<Int>(0)
  private let condition = NSCondition()
  /// The current loop; written before the ticket is posted, read only by helpers holding
  /// a place, cleared after they have all checked in.
  private var body: (@Sendable (Int) -> Void)?
  private var iterations = 0
  private var generation = 0

  private init(helpers: Int) {
    helperCount = helpers
    for index in 0..<helpers {
      let thread = Thread { [unowned self] in self.serve() }
      thread.name = "Autodiff worker \(index + 1)"
      thread.stackSize = 1 << 20
      thread.start()
    }
  }

  func acquire() -> Bool {
    owned.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
  }

  func release() { owned.store(false, ordering: .releasing) }

  /// Posts the loop, works on it, and waits until every iteration has finished and every
  /// helper that joined has left.
  func run(iterations: Int, helpers: Int, _ body: @escaping @Sendable (Int) -> Void) {
    self.body = body
    self.iterations = iterations
    next.store(0, ordering: .relaxed)
    finished.store(0, ordering: .relaxed)
    checkedIn.store(0, ordering: .relaxed)
    generation += 1
    ticket.store(generation << 8 | min(helpers, 255), ordering: .sequentiallyConsistent)
    if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
      condition.lock()
      condition.broadcast()
      condition.unlock()
    }
    work(body)
    // Close the loop to late helpers and count those that joined.
    let open = ticket.exchange(generation << 8, ordering: .acquiringAndReleasing) & 255
    let joined = min(helpers, 255) - open
    var polls = 0
    while finished.load(ordering: .acquiring) < iterations || checkedIn.load(ordering: .acquiring) < joined {
      // A helper holding a place may have been preempted: let it run.
      polls &+= 1
      if polls & 4095 == 0 { sched_yield() }
    }
    self.body = nil
  }

  private func work(_ body: @Sendable (Int) -> Void) {
    while true {
      let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
      if i >= iterations { return }
      body(i)
      finished.wrappingAdd(1, ordering: .releasing)
    }
  }

  private func serve() {
    var served = 0
    while true {
      var word = ticket.load(ordering: .acquiring)
      if word >> 8 == served {
        let start = DispatchTime.now().uptimeNanoseconds
        var polls = 0
        while word >> 8 == served {
          polls &+= 1
          if polls & 255 == 0 && DispatchTime.now().uptimeNanoseconds - start > Self.spinTime {
            condition.lock()
            sleepers.wrappingAdd(1, ordering: .sequentiallyConsistent)
            while ticket.load(ordering: .sequentiallyConsistent) >> 8 == served { condition.wait() }
            sleepers.wrappingSubtract(1, ordering: .sequentiallyConsistent)
            condition.unlock()
          }
          word = ticket.load(ordering: .acquiring)
        }
      }
      served = word >> 8
      // Claim a place in this generation, if one is open.
      while word >> 8 == served && word & 255 > 0 {
        let (exchanged, original) = ticket.compareExchange(
          expected: word, desired: word - 1, ordering: .acquiringAndReleasing)
        if exchanged {
          work(body.unsafelyUnwrapped)
          checkedIn.wrappingAdd(1, ordering: .releasing)
          break
        }
        word = original
      }
    }
  }
}
