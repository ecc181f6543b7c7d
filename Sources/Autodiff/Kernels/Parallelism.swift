import Foundation
import Synchronization

/// How many threads one kernel may use.
///
/// Large matrix products, matrix-vector products, the vector kernels of elementwise
/// arithmetic and functions, fused elementwise programs, full sums and dot products (from
/// 32768 values) are split across cores with `parallelFor`
/// (`WorkerPool.swift`); this caps the split, for benchmarks that compare one core with all
/// of them, or for programs that run several differentiations in parallel themselves. No
/// value depends on it: elementwise values are computed one by one, and a fused program's
/// sums are added in pieces that depend on the count alone. (The worker threads run in the
/// default floating-point environment: a caller that changes the rounding mode for its own
/// thread gets it on the pieces that thread computes only.)
public enum Parallelism {
  private static let limit = Atomic<Int>(0)
  /// Read once: `ProcessInfo` queries the system on every call (microseconds).
  private static let processors = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 16))

  /// The most threads a kernel uses: the active processors (up to 16) unless set.
  ///
  /// Setting it affects kernels started afterwards on every thread; values below 1 mean 1.
  public static var maximumThreads: Int {
    get {
      let value = limit.load(ordering: .relaxed)
      return value > 0 ? value : processors
    }
    set { limit.store(max(1, newValue), ordering: .relaxed) }
  }
}
