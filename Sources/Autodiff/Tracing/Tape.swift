/// The record of one reverse-mode call: an append-only list of nodes in creation order.
///
/// A node holds its parents (by index; `-1` for an operand that is a constant at this
/// level) and the pullback of the primitive that created it. The backward pass walks the
/// tape once, newest first, accumulating adjoints with `Tensor` operations, so that an
/// enclosing differential operator can trace them. Nodes the output does not depend on
/// get no adjoint and are skipped.
///
/// A tape belongs to one call on one thread; it is released when the call and every
/// pullback closure it returned are gone.
@usableFromInline
final class Tape {
  @usableFromInline
  struct Node {
    @usableFromInline var first: Int
    @usableFromInline var second: Int
    /// Maps the adjoint of this node to the adjoints of its parents (nil: no contribution).
    @usableFromInline var pullback: ((Tensor) -> (Tensor?, Tensor?))?

    @inlinable
    init(first: Int, second: Int, pullback: ((Tensor) -> (Tensor?, Tensor?))?) {
      self.first = first
      self.second = second
      self.pullback = pullback
    }
  }

  /// The nodes. Access is not checked dynamically for exclusivity (a class property's
  /// checks cost about 120 instructions per recorded operation): a tape belongs to one
  /// call on one thread, and the backward sweep, the one place that holds a long access,
  /// refuses re-entry through `sweeping`.
  @exclusivity(unchecked) @usableFromInline var nodes: [Node] = []
  /// Whether a backward sweep of this tape is under way (nothing may then record on it).
  @exclusivity(unchecked) @usableFromInline var sweeping = false

  @inlinable
  init() {}

  /// Appends a node that has no parents: an input of the call.
  @inlinable
  func appendInput() -> Int {
    require(!sweeping, Tape.reentryMessage)
    nodes.append(Node(first: -1, second: -1, pullback: nil))
    return nodes.count - 1
  }

  /// Appends a node for a primitive application.
  @inlinable
  func append(first: Int, second: Int, pullback: @escaping (Tensor) -> (Tensor?, Tensor?)) -> Int {
    require(!sweeping, Tape.reentryMessage)
    nodes.append(Node(first: first, second: second, pullback: pullback))
    return nodes.count - 1
  }

  /// Runs the backward pass from `outputs`, each seeded with its cotangent, returning the
  /// adjoint of each of `inputs` (nil where no output depends on it).
  ///
  /// - Parameters:
  ///   - outputs: the nodes whose adjoints are given, with their cotangents (of the
  ///     nodes' shapes); a node listed twice gets the sum of its seeds.
  ///   - inputs: the nodes whose adjoints to return.
  ///   - releasing: whether to drop each node's pullback (and the values it keeps) as
  ///     soon as the sweep has passed it; true when the tape will not be swept again.
  /// - Complexity: one pullback per node between the inputs and the newest output.
  func backward(from outputs: [(node: Int, seed: Tensor)], to inputs: [Int], releasing: Bool) -> [Tensor?] {
    require(!sweeping, Tape.reentryMessage)
    guard let newest = outputs.map(\.node).max() else { return inputs.map { _ in nil } }
    sweeping = true
    defer { sweeping = false }
    let lowest = inputs.min() ?? 0
    var adjoints = [Tensor?](repeating: nil, count: newest + 1)
    for (node, seed) in outputs { accumulate(seed, into: &adjoints[node]) }
    // A pullback works on primals of lower levels and on cotangents of the seed's level,
    // so it records on the seed's tape or on lower ones, never on this one (checked by
    // `sweeping`): the node buffer is stable for the whole sweep, walked through one
    // pointer (no exclusivity or bounds checks per node).
    nodes.withUnsafeMutableBufferPointer { nodes in
      adjoints.withUnsafeMutableBufferPointer { adjoints in
        var index = newest
        while index >= lowest {
          defer { index -= 1 }
          guard let adjoint = adjoints[index] else { continue }
          guard let pullback = nodes[index].pullback else { continue }  // an input
          if releasing { nodes[index].pullback = nil }
          adjoints[index] = nil
          let (first, second) = pullback(adjoint)
          let (firstParent, secondParent) = (nodes[index].first, nodes[index].second)
          if firstParent >= 0, let first { accumulate(first, into: &adjoints[firstParent]) }
          if secondParent >= 0, let second { accumulate(second, into: &adjoints[secondParent]) }
        }
      }
    }
    return inputs.map { $0 <= newest ? adjoints[$0] : nil }
  }

  @usableFromInline static let reentryMessage =
    "a derivative rule recorded onto the tape being swept: a custom rule (differentiableFunction) must not capture tracers of its own level"

  @inline(__always)
  private func accumulate(_ contribution: Tensor, into slot: inout Tensor?) {
    if var existing = slot {
      slot = nil
      existing.add(contribution)
      slot = existing
    } else {
      slot = contribution
    }
  }
}
