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
  /// The windows of the nodes appended with one (`append(first:window:pullback:)`), whose
  /// second parent slot holds `Tape.windowed`.
  @exclusivity(unchecked) @usableFromInline var windows: [Int: AdjointWindow] = [:]
  /// The second parent slot of a node whose adjoint has a window in its parent's.
  @usableFromInline static let windowed = -2
  /// The latest applications of the primitives that reuse their results
  /// (`BinaryPrimitive.reusesResults`), newest last, at most `reuseCapacity`.
  @exclusivity(unchecked) @usableFromInline var recentProducts: [RecentProduct] = []
  @usableFromInline static let reuseCapacity = 8
  /// Whether the traced function is still running (`reverseTrace` clears it, with
  /// `recentProducts`, when the function returns): a tracer that escaped the function and
  /// records later must not refill the entries, whose tracers would keep the tape alive.
  @exclusivity(unchecked) @usableFromInline var isRecording = true

  /// Nodes room is made for up front: a nested gradient (an unrolled step's) records a
  /// dozen or so, and growing 1, 2, 4, 8, 16 cost four reallocations per call.
  @usableFromInline static let initialCapacity = 16

  @inlinable
  init() { nodes.reserveCapacity(Tape.initialCapacity) }

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

  /// Appends a node whose value is a window of its parent's (a slice), so that the sweep
  /// can add the node's adjoint straight into that window of the parent's adjoint (in
  /// place for constants and duals of constants, through `AddIntoWindow` when traced)
  /// rather than run `pullback`, which pads it with zeros to the parent's shape for an
  /// addition over the whole. `pullback` still serves a first contribution to the parent
  /// that cannot be widened in place (`widen`).
  @inlinable
  func append(first: Int, window: AdjointWindow, pullback: @escaping (Tensor) -> (Tensor?, Tensor?)) -> Int {
    require(!sweeping, Tape.reentryMessage)
    nodes.append(Node(first: first, second: Tape.windowed, pullback: pullback))
    windows[nodes.count - 1] = window
    return nodes.count - 1
  }

  /// Appends a node with any number of parents, whose pullback returns one adjoint per
  /// parent (nil: no contribution).
  ///
  /// Nodes have two parent slots; more parents are reached through routing nodes appended
  /// first: the node's parents are `parents[0]` and routing node 1, whose parents are
  /// `parents[1]` and routing node 2, …, the last one's `parents[m − 2]` and
  /// `parents[m − 1]`. The node's pullback computes every adjoint and leaves the rest for
  /// the routing nodes, which the sweep reaches next (they are older) and which pass each
  /// one on to its parent.
  @inlinable
  func append(parents: [Int], pullback: @escaping (Tensor) -> [Tensor?]) -> Int {
    switch parents.count {
    case 0: return append(first: -1, second: -1) { _ in (nil, nil) }
    case 1: return append(first: parents[0], second: -1) { (pullback($0)[0], nil) }
    case 2:
      return append(first: parents[0], second: parents[1]) { cotangent in
        let adjoints = pullback(cotangent)
        return (adjoints[0], adjoints[1])
      }
    default: break
    }
    let routed = RoutedAdjoints()
    let m = parents.count
    var next = parents[m - 1]
    for k in stride(from: m - 2, through: 1, by: -1) {
      let isLast = k == m - 2
      next = append(first: parents[k], second: next) { _ in
        defer {
          routed.adjoints[k] = nil
          if isLast { routed.adjoints[m - 1] = nil }
        }
        return (routed.adjoints[k], isLast ? routed.adjoints[m - 1] : Tensor.unused)
      }
    }
    return append(first: parents[0], second: next) { cotangent in
      routed.adjoints = pullback(cotangent)
      let first = routed.adjoints[0]
      routed.adjoints[0] = nil  // the rest are the routing nodes' to release
      return (first, Tensor.unused)  // the routing nodes' cue
    }
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
    var adjoints = [Tensor?](repeating: nil, count: newest + 1)
    for (node, seed) in outputs { accumulate(seed, into: &adjoints[node]) }
    sweep(&adjoints, newest: newest, lowest: inputs.min() ?? 0, releasing: releasing)
    return inputs.map { $0 <= newest ? adjoints[$0] : nil }
  }

  /// `backward(from:to:releasing:)` for one output and one input, without the lists.
  func backward(from output: Int, seed: Tensor, to input: Int, releasing: Bool) -> Tensor? {
    require(!sweeping, Tape.reentryMessage)
    var adjoints = [Tensor?](repeating: nil, count: output + 1)
    adjoints[output] = seed
    sweep(&adjoints, newest: output, lowest: input, releasing: releasing)
    return input <= output ? adjoints[input] : nil
  }

  /// The backward pass over the nodes from `newest` down to `lowest`, given the seeded
  /// adjoints (one slot per node up to `newest`).
  private func sweep(_ adjoints: inout [Tensor?], newest: Int, lowest: Int, releasing: Bool) {
    sweeping = true
    defer { sweeping = false }
    // A pullback works on primals of lower levels and on cotangents of the seed's level,
    // so it records on the seed's tape or on lower ones, never on this one (checked by
    // `sweeping`): the node buffer is stable for the whole sweep, walked through one
    // pointer (no exclusivity or bounds checks per node).
    nodes.withUnsafeMutableBufferPointer { nodes in
      adjoints.withUnsafeMutableBufferPointer { adjoints in
        var index = newest
        while index >= lowest {
          defer { index -= 1 }
          guard var adjoint = adjoints[index] else { continue }
          guard let pullback = nodes[index].pullback else { continue }  // an input
          if releasing { nodes[index].pullback = nil }
          adjoints[index] = nil
          let (firstParent, secondParent) = (nodes[index].first, nodes[index].second)
          if secondParent == Tape.windowed, firstParent >= 0, let window = windows[index] {
            if releasing { windows[index] = nil }
            if adjoints[firstParent] == nil {
              // The parent's first contribution: this adjoint, widened in place when its
              // buffer has room around it (a fused program's output), else padded below.
              var piece = consume adjoint
              if Tape.widen(&piece, to: window) {
                adjoints[firstParent] = piece
                continue
              }
              adjoint = piece
            } else if accumulate(adjoint, in: window, into: &adjoints[firstParent]) {
              continue
            }
          }
          let (first, second) = pullback(adjoint)
          if firstParent >= 0, let first { accumulate(first, into: &adjoints[firstParent]) }
          if secondParent >= 0, let second { accumulate(second, into: &adjoints[secondParent]) }
        }
      }
    }
  }

  /// The traced result of a recent application of `primitive` (of parameters `key`) to
  /// these very operands on this tape, if any: a common subexpression, recorded once.
  ///
  /// Operands are the same when they are the same tensor, not merely equal: at a level of
  /// differentiation, the same `Lift` (one traced value); as constants, the same storage,
  /// offset and shape (a recent entry holds its operands, so their storage cannot be freed
  /// and reused, nor written in place: a write copies a shared buffer). The reused result
  /// is the one recorded: its adjoint gathers every use's contribution, then goes through
  /// the product's pullback once.
  @inlinable
  func reused<P>(_ primitive: P.Type, key: Int, _ a: Tensor, _ b: Tensor) -> Tensor? {
    guard isRecording else { return nil }
    let type = ObjectIdentifier(P.self)
    for entry in recentProducts.reversed()
    where entry.type == type && entry.key == key && Tape.same(entry.a, a) && Tape.same(entry.b, b) {
      return entry.result
    }
    return nil
  }

  /// Records `result` as the application of `primitive` (of parameters `key`) to `a` and
  /// `b`, for `reused`, dropping the oldest entry beyond `reuseCapacity`.
  @inlinable
  func remember<P>(_ primitive: P.Type, key: Int, _ a: Tensor, _ b: Tensor, result: Tensor) {
    guard isRecording else { return }
    if recentProducts.count == Tape.reuseCapacity { recentProducts.removeFirst() }
    if recentProducts.isEmpty { recentProducts.reserveCapacity(Tape.reuseCapacity) }
    recentProducts.append(RecentProduct(type: ObjectIdentifier(P.self), key: key, a: a, b: b, result: result))
  }

  /// Whether `x` and `y` are the same tensor (see `reused`).
  @inlinable
  static func same(_ x: Tensor, _ y: Tensor) -> Bool {
    if let lift = x.lift { return lift === y.lift }
    return y.lift == nil && x.storage === y.storage && x.offset == y.offset && x.shape == y.shape
  }

  @usableFromInline static let reentryMessage =
    "a derivative rule recorded onto the tape being swept: a custom rule (differentiableFunction) must not capture tracers of its own level"

  /// Turns `piece`, an adjoint of a window's shape, into the adjoint of the window's
  /// parent (zeros outside the window) without copying it: when the window is a
  /// contiguous range of the parent and `piece`'s values (and, for a dual of constants,
  /// its tangent's) are held by it alone in a buffer with room for the zeros before and
  /// after them (a fused program's output), the zeros are written there and `piece`
  /// becomes the wider view. False (`piece` unchanged) otherwise.
  static func widen(_ piece: inout Tensor, to window: AdjointWindow) -> Bool {
    guard piece.shape == window.shape, window.parentShape[..<window.axis].allSatisfy({ $0 == 1 }) else {
      return false
    }
    let inner = window.parentShape[(window.axis + 1)...].reduce(1, *)
    let before = window.range.lowerBound * inner
    let after = (window.parentShape[window.axis] - window.range.upperBound) * inner
    /// Whether `t` alone holds a buffer with room around its values.
    func hasRoom(_ t: inout Tensor) -> Bool {
      t.offset >= before && t.storage.count - t.offset - t.scalarCount >= after && isKnownUniquelyReferenced(&t.storage)
    }
    func widened(_ t: Tensor) -> Tensor {
      (t.base - before).initialize(repeating: 0, count: before)
      (t.base + t.scalarCount).initialize(repeating: 0, count: after)
      return Tensor(shape: window.parentShape, storage: t.storage, offset: t.offset - before)
    }
    guard let lift = piece.lift else {
      guard hasRoom(&piece) else { return false }
      piece = widened(piece)
      return true
    }
    // A dual of constants with a single tangent: take it apart (dropping it, so that its
    // parts are held here alone), widen both parts, or put it back together.
    guard var tangent = lift.tangent, tangent.shape == window.shape, lift.primal.lift == nil, tangent.lift == nil
    else { return false }
    var value = lift.primal
    let tag = lift.tag
    _ = consume lift
    piece = Tensor.unused
    if hasRoom(&value) && hasRoom(&tangent) {
      piece = Tensor(dual: widened(value), tangent: widened(tangent), tag: tag)
      return true
    }
    piece = Tensor(dual: value, tangent: tangent, tag: tag)
    return false
  }

  /// Adds `contribution` into `window` of the adjoint in `slot`, which must hold one of
  /// the window's parent shape (false, nothing done, otherwise): in place when both are
  /// constants, or both duals of constants at one level (the sweep inside a
  /// forward-over-reverse HVP: values and tangents alike); otherwise (traced adjoints) as
  /// the differentiable `AddIntoWindow`.
  @inline(__always)
  private func accumulate(_ contribution: Tensor, in window: AdjointWindow, into slot: inout Tensor?) -> Bool {
    guard var existing = slot, existing.shape == window.parentShape, contribution.shape == window.shape else {
      return false
    }
    if existing.lift == nil && contribution.lift == nil {
      slot = nil
      addIntoWindowKernel(&existing, contribution, axis: window.axis, range: window.range)
      slot = existing
      return true
    }
    guard let lift = existing.lift, let piece = contribution.lift, lift.tag == piece.tag,
      let tangent = lift.tangent, let pieceTangent = piece.tangent,
      lift.primal.lift == nil, piece.primal.lift == nil, tangent.lift == nil, pieceTangent.lift == nil
    else {
      // Traced (or of mixed levels): the same addition as a primitive, differentiable.
      slot = nil
      slot = apply(AddIntoWindow(axis: window.axis, range: window.range), existing, contribution)
      return true
    }
    // Single tangents, or batches of one count (a leading axis before the window's).
    let batch = tangent.rank > existing.rank ? [tangent.shape[0]] : []
    guard tangent.shape == batch + window.parentShape, pieceTangent.shape == batch + window.shape else {
      return false
    }
    // Take the dual apart and drop it, so that its value and tangent are held here alone
    // (added into in place, not copied).
    let (tag, pieceValue) = (lift.tag, piece.primal)
    var value = lift.primal
    var tangents = consume tangent
    _ = consume lift
    slot = nil
    existing = Tensor.unused
    addIntoWindowKernel(&value, pieceValue, axis: window.axis, range: window.range)
    addIntoWindowKernel(&tangents, pieceTangent, axis: window.axis + batch.count, range: window.range)
    slot = Tensor(dual: value, tangent: tangents, tag: tag)
    return true
  }

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

/// One application kept for `Tape.reused`: the primitive's type and parameters, its
/// operands and its traced result.
@usableFromInline
struct RecentProduct {
  @usableFromInline let type: ObjectIdentifier
  @usableFromInline let key: Int
  @usableFromInline let a: Tensor
  @usableFromInline let b: Tensor
  @usableFromInline let result: Tensor

  @inlinable
  init(type: ObjectIdentifier, key: Int, a: Tensor, b: Tensor, result: Tensor) {
    self.type = type
    self.key = key
    self.a = a
    self.b = b
    self.result = result
  }
}

/// The adjoints a node with more than two parents leaves for its routing nodes.
@usableFromInline
final class RoutedAdjoints {
  @usableFromInline var adjoints: [Tensor?] = []
  @usableFromInline init() {}
}

/// A window of a tensor: the values at `range` along `axis` of a tensor of shape
/// `parentShape` (what a slice reads, and where its adjoint goes back).
@usableFromInline
struct AdjointWindow {
  @usableFromInline let parentShape: TensorShape
  @usableFromInline let axis: Int
  @usableFromInline let range: Range<Int>

  @inlinable
  init(parentShape: TensorShape, axis: Int, range: Range<Int>) {
    self.parentShape = parentShape
    self.axis = axis
    self.range = range
  }

  /// The window's own shape.
  @usableFromInline var shape: TensorShape {
    var shape = parentShape
    shape[axis] = range.count
    return shape
  }
}
