import Synchronization

/// Fresh nesting levels for differential operators.
///
/// Every call of a differential operator takes a new tag, larger than every tag taken
/// before it. An operation lifts to the highest tag among its operands; operands with
/// lower tags are constants at that level. Because an inner operator's tag is always
/// larger than the tags of values captured from enclosing operators, perturbations of
/// different calls are never confused (Siskind and Pearlmutter, "Perturbation confusion
/// and referential transparency", IFL 2005).
///
/// The counter is a process-wide atomic: no thread-local state, no global tape.
enum Tag {
  private static let counter = Atomic<Int>(0)

  /// A tag no other call has been given.
  @inlinable
  static func next() -> Int {
    counter.wrappingAdd(1, ordering: .relaxed).newValue
  }
}
