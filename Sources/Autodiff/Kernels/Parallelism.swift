import Foundation
import Synchronization

/// How many threads one kernel (today: matrix multiply) may use.
///
/// Large products are split across cores with `parallelFor` (`WorkerPool.swift`); this
/// caps the split, for benchmarks that compare one core with all of them, or for
/// programs that run several differentiations in parallel themselves.
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
