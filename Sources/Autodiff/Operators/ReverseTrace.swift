// The one place where reverse mode starts: inputs become tracers on a fresh tape.

/// The value of `function` at `inputs` and a closure that runs the backward pass.
///
/// Takes a fresh tag, makes each input a tracer at that level on a new tape, calls the
/// function once, and returns its value with that level removed. `backward(seed,
/// releasing)` returns the adjoint of each input (zeros where the value does not depend
/// on it) for the cotangent `seed` of the value's shape.
func reverseTrace(
  at inputs: [Tensor], operation: StaticString, of function: ([Tensor]) -> Tensor
) -> (value: Tensor, backward: (Tensor, Bool) -> [Tensor]) {
  let tag = Tag.next()
  let tape = Tape()
  var nodes = [Int]()
  nodes.reserveCapacity(inputs.count)
  let tracers = inputs.map { input -> Tensor in
    let node = tape.appendInput()
    nodes.append(node)
    return Tensor(tracer: input, tape: tape, node: node, tag: tag)
  }
  let output = function(tracers)
  let value = output.primal(at: tag)
  let shapes = inputs.map(\.shape)
  guard let lift = output.lift, lift.tag == tag else {
    // The output does not depend on the inputs at this level.
    return (value, { _, _ in shapes.map { Tensor.zeros($0) } })
  }
  let outputNode = lift.node
  let backward = { (seed: Tensor, releasing: Bool) -> [Tensor] in
    precondition(
      seed.shape == value.shape,
      "\(operation): cotangent of shape \(seed.shape) does not match the value's shape \(value.shape)")
    let adjoints = tape.backward(from: outputNode, seed: seed, to: nodes, releasing: releasing)
    return zip(adjoints, shapes).map { $0 ?? Tensor.zeros($1) }
  }
  return (value, backward)
}
