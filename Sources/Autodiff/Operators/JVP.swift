// Jacobian-vector products (forward mode), of tensors or of any structure of tensors.

/// The value of `f` at `x` and its directional derivative along `direction`.
///
/// ```
/// tangent = J_f(x) v = d/dt f(x + t v) at t = 0
/// ```
/// Forward mode: one pass that carries (value, tangent) pairs; memory does not grow with
/// the length of the computation. x and f(x) may each be a `Tensor` or any
/// `TensorStructure`; the direction has x's layout and the tangent f(x)'s.
///
/// ```swift
/// let (value, derivative) = jvp(at: params, direction: d) { p in loss(p["w"]!, p["b"]!) }
/// ```
///
/// - Parameters:
///   - x: the point.
///   - direction: v, of x's layout.
///   - f: the function.
/// - Returns: f(x) and J_f(x) v, both of f(x)'s layout.
/// - Precondition: `direction` has x's layout.
/// - Complexity: a small constant times the cost of evaluating f, plus O(1) per tensor.
public func jvp<P: TensorStructure, Q: TensorStructure>(
  at x: P, direction: P, of f: (P) -> Q
) -> (value: Q, tangent: Q) {
  jvpOfStructures(at: x, direction: direction, of: f)
}

/// The body of `jvp`, shared by its overloads.
@usableFromInline
func jvpOfStructures<P: TensorStructure, Q: TensorStructure>(
  at x: P, direction: P, of f: (P) -> Q
) -> (value: Q, tangent: Q) {
  requireDirection(direction, matches: x, operation: "jvp(at:direction:of:)")
  return forwardPass(at: x, tangents: direction.tensors, of: f) { Tensor.zeros($0) }
}

/// f evaluated on duals of x's tensors with the given tangents (one per tensor, single or
/// batched) at a new level, split into the value and its tangents; an output that does not
/// depend on x gets `zero(its shape)`.
func forwardPass<P: TensorStructure, Q: TensorStructure>(
  at x: P, tangents directions: [Tensor], of f: (P) -> Q, zero: (TensorShape) -> Tensor
) -> (value: Q, tangent: Q) {
  let tag = Tag.next()
  var index = 0
  let duals = x.mapTensors { primal in
    defer { index += 1 }
    return Tensor(dual: primal, tangent: directions[index], tag: tag)
  }
  var tangents = [Tensor]()
  let value = f(duals).mapTensors { output in
    if let lift = output.lift, lift.tag == tag, let tangent = lift.tangent {
      tangents.append(tangent)
      return lift.primal
    }
    tangents.append(zero(output.shape))
    return output
  }
  return (value, value.replacingTensors(with: tangents))
}

/// The value of `f` at `x` and its directional derivatives along a batch of directions,
/// all pushed through one evaluation of f.
///
/// ```
/// tangents[i] = J_f(x) directions[i],   i = 0 ..< B
/// ```
/// Each tensor of `directions` has a leading batch axis of B rows, the shape of x's tensor
/// behind it; each tensor of `tangents` has f(x)'s tensor's shape behind the same axis.
/// Every operation runs once on the batch: a matrix product's tangent is one matrix-matrix
/// product instead of B matrix-vector ones, which is what `jax.vmap(jvp)` and `jacfwd`
/// buy in JAX. Nests like `jvp` (a batch inside `gradient`, `gradient` inside a batch, a
/// batch inside a batch). A user rule from `differentiableFunction` is applied row by row.
///
/// ```swift
/// // The Jacobian-matrix product J_f(x) V for the columns of V: V's transpose as rows.
/// let (_, jv) = jvp(at: x, directions: v.transposed()) { x in f(x) }
/// ```
///
/// - Parameters:
///   - x: the point (a tensor or any structure).
///   - directions: the B directions: x's layout with a leading axis of B ≥ 1 rows on every
///     tensor.
///   - f: the function.
/// - Returns: f(x), and the B tangents in f(x)'s layout with the same leading axis (for a
///   structure x without tensors, B = 0).
/// - Precondition: every tensor of `directions` is [B] + the shape of x's tensor, one B.
/// - Complexity: one pass over f whose operations each cost about B times their tangent's
///   cost in one call (less where B rows make a matrix product of matrix-vector ones).
public func jvp<P: TensorStructure, Q: TensorStructure>(
  at x: P, directions: P, of f: (P) -> Q
) -> (value: Q, tangents: Q) {
  batchedJVPOfStructures(at: x, directions: directions, of: f)
}

/// `jvp(at:directions:of:)` for a function from a tensor to a tensor (an overload that
/// fixes both types so that closures like `{ x in x * 2 }` type-check; no other behaviour).
///
/// - Parameters:
///   - x: the point.
///   - directions: B directions, of shape [B] + x.shape.
///   - f: the function.
/// - Returns: f(x) and the tangents, of shape [B] + f(x).shape.
@inlinable
public func jvp(at x: Tensor, directions: Tensor, of f: (Tensor) -> Tensor) -> (value: Tensor, tangents: Tensor) {
  batchedJVPOfStructures(at: x, directions: directions, of: f)
}

/// The body of `jvp(at:directions:of:)`, shared by its overloads.
@usableFromInline
func batchedJVPOfStructures<P: TensorStructure, Q: TensorStructure>(
  at x: P, directions: P, of f: (P) -> Q
) -> (value: Q, tangents: Q) {
  let operation = "jvp(at:directions:of:)"
  let points = x.tensors
  let batches = directions.tensors
  require(
    points.count == batches.count,
    "\(operation): \(batches.count) direction tensors for a point of \(points.count) tensors")
  var count: Int? = nil
  for (point, batch) in zip(points, batches) {
    require(
      batch.rank == point.rank + 1 && batch.shape.dropFirst().elementsEqual(point.shape),
      "\(operation): directions of shape \(batch.shape) are not a batch of the point's shape \(point.shape) (expected [B] + \(point.shape))"
    )
    require(batch.shape[0] >= 1, "\(operation): a batch of directions needs at least one row, got shape \(batch.shape)")
    if let count {
      require(
        batch.shape[0] == count,
        "\(operation): direction tensors with \(count) and \(batch.shape[0]) rows; every tensor needs the same batch")
    }
    count = batch.shape[0]
  }
  // The point's own layout check (dictionary keys, a struct's own rules) on row 0.
  if !(x is Tensor) {
    requireDirection(directions.mapTensors { batchRow($0, 0) }, matches: x, operation: operation)
  }
  let (value, tangents) = forwardPass(at: x, tangents: batches, of: f) { zeroBatch(count ?? 0, $0) }
  return (value, tangents)
}

/// Stops with a message naming both layouts unless `direction` has x's layout.
func requireDirection<P: TensorStructure>(_ direction: P, matches x: P, operation: String) {
  requireMatchingLayout(direction, x, role: "direction", reference: "the point", operation: operation)
}

/// Stops with a message naming both shapes (for tensors) or layouts (for other
/// structures) unless `given` has `expected`'s layout.
func requireMatchingLayout<P: TensorStructure>(
  _ given: P, _ expected: P, role: String, reference: String, operation: String
) {
  if let g = given as? Tensor, let e = expected as? Tensor {
    require(
      g.shape == e.shape, "\(operation): \(role) of shape \(g.shape) does not match \(reference)'s shape \(e.shape)")
    return
  }
  require(
    expected.hasSameLayout(as: given),
    "\(operation): \(role) of layout \(given.layoutDescription) does not match \(reference)'s layout \(expected.layoutDescription)"
  )
}

/// The value of `f` at `x` and its differential v ↦ J_f(x) v.
///
/// Each call of the differential evaluates f once more in forward mode (as `jvp` does);
/// to push many directions through one evaluation, use `jacobian(at:of:)`.
///
/// - Parameters:
///   - x: the point (a tensor or any structure).
///   - f: the function.
/// - Returns: f(x) and the differential, taking a direction of x's layout to a tangent of
///   f(x)'s layout.
public func valueWithDifferential<P: TensorStructure, Q: TensorStructure>(
  at x: P, of f: @escaping (P) -> Q
) -> (value: Q, differential: (P) -> Q) {
  (f(x), { direction in jvp(at: x, direction: direction, of: f).tangent })
}

// MARK: - Tensor to tensor
//
// With both the argument and the value generic, Swift cannot pick among `Tensor`'s
// overloads of `*` in a closure such as `{ x in x * 2 }` (2 may be a `Double` or a
// `Tensor` literal). These overloads fix both types to `Tensor` and forward to the
// generic operators; they add no behaviour.

/// `jvp(at:direction:of:)` for a function from a tensor to a tensor.
///
/// - Parameters:
///   - x: the point.
///   - direction: v, of x's shape.
///   - f: the function.
/// - Returns: f(x) and J_f(x) v.
@inlinable
public func jvp(at x: Tensor, direction: Tensor, of f: (Tensor) -> Tensor) -> (value: Tensor, tangent: Tensor) {
  jvpOfTensor(at: x, direction: direction, of: f)
}

/// f(x) and J_f(x) v for a function of one tensor: one dual at a new level, without the
/// structures' lists (`forwardPass` maps x's tensors and f's outputs through arrays; a
/// forward-over-reverse HVP is this around a gradient).
@usableFromInline
func jvpOfTensor(at x: Tensor, direction: Tensor, of f: (Tensor) -> Tensor) -> (value: Tensor, tangent: Tensor) {
  requireDirection(direction, matches: x, operation: "jvp(at:direction:of:)")
  let tag = Tag.next()
  let output = f(Tensor(dual: x, tangent: direction, tag: tag))
  if let lift = output.lift, lift.tag == tag, let tangent = lift.tangent { return (lift.primal, tangent) }
  return (output, Tensor.zeros(output.shape))
}

/// `valueWithDifferential(at:of:)` for a function from a tensor to a tensor.
///
/// - Parameters:
///   - x: the point.
///   - f: the function.
/// - Returns: f(x) and v ↦ J_f(x) v.
@inlinable
public func valueWithDifferential(
  at x: Tensor, of f: @escaping (Tensor) -> Tensor
) -> (value: Tensor, differential: (Tensor) -> Tensor) {
  (f(x), { direction in jvp(at: x, direction: direction, of: f).tangent })
}
