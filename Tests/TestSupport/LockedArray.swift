import Foundation

/// An append-only array safe to share between threads.
///
/// Used by the concurrency tests to collect results from
/// `DispatchQueue.concurrentPerform` workers and task-group children. The
/// storage is only touched while holding `lock`, which makes the unchecked
/// `Sendable` conformance sound. (NSLock is used instead of
/// `Synchronization.Mutex` so the helper needs no OS-version availability.)
public final class LockedArray<Element: Sendable>: @unchecked Sendable {
  private let lock = NSLock()
  private var storage: [Element] = []

  public init() {}

  /// Appends one element.
  public func append(_ element: Element) {
    lock.lock()
    defer { lock.unlock() }
    storage.append(element)
  }

  /// A snapshot of the elements appended so far.
  public var values: [Element] {
    lock.lock()
    defer { lock.unlock() }
    return storage
  }
}
