// The one place where reverse mode starts: inputs become tracers on a fresh tape.

/// The values of `function` at `inputs` and a closure that runs the backward pass.
///
/// Takes a fresh tag, makes each input a tracer at that level on a new tape, calls the
/// function once, and returns its outputs with that level removed. `backward(seeds,
/// releasing)` returns the adjoint of each input (zeros where no output depends on it)
/// for one cotangent per output, of that output's shape.
///
/// Structures enter and leave here as lists of tensors: k tensors cost k tracers, with
/// no copy of their values.
@usableFromInline
func reverseTrace(
  at inputs: [Tensor], operation: StaticString, of function: ([Tensor]) -> [Tensor]
) -> (values: [Tensor], backward: ([Tensor], Bool) -> [Tensor]) {
  let tag = Tag.next()
  let tape = Tape()
  var nodes = [Int]()
  nodes.reserveCapacity(inputs.count)
  let tracers = inputs.map { input -> Tensor in
    let node = tape.appendInput()
    nodes.append(node)
    return Tensor(tracer: input, tape: tape, node: node, tag: tag)
  }
  let outputs = function(tracers)
  // Recording is over: drop the products kept for reuse (their tracers hold the tape).
  tape.isRecording = false
  tape.recentProducts = []
  let values = outputs.map { $0.primal(at: tag) }
  let shapes = inputs.map(\.shape)
  // The outputs that live at this level, by position; the others are constants here.
  let liveOutputs: [(position: Int, node: Int)] = outputs.enumerated().compactMap { position, output in
    guard let lift = output.lift, lift.tag == tag else { return nil }
    return (position, lift.node)
  }
  if liveOutputs.isEmpty {
    // No output depends on the inputs at this level.
    return (
      values,
      { seeds, _ in
        checkSeeds(seeds, values: values, operation: operation)
        return shapes.map { Tensor.zeros($0) }
      }
    )
  }
  let backward = { (seeds: [Tensor], releasing: Bool) -> [Tensor] in
    checkSeeds(seeds, values: values, operation: operation)
    let adjoints = tape.backward(
      from: liveOutputs.map { ($0.node, seeds[$0.position]) }, to: nodes, releasing: releasing)
    return zip(adjoints, shapes).map { $0 ?? Tensor.zeros($1) }
  }
  return (values, backward)
}

/// The value of a scalar function of one tensor and its gradient: `reverseTrace` and one
/// releasing backward pass, without its lists (a nested gradient, called once per step of
/// an unrolled loop, spent 13 of its 24 heap allocations on them).
@usableFromInline
func valueWithGradientOfTensor(
  at x: Tensor, operation: StaticString, of function: (Tensor) -> Tensor
) -> (value: Tensor, gradient: Tensor) {
  let tag = Tag.next()
  let tape = Tape()
  let input = tape.appendInput()
  let output = function(Tensor(tracer: x, tape: tape, node: input, tag: tag))
  tape.isRecording = false
  tape.recentProducts = []
  let value = output.primal(at: tag)
  requireScalar(value, operation: operation)
  guard let lift = output.lift, lift.tag == tag else { return (value, Tensor.zeros(x.shape)) }
  let adjoint = tape.backward(from: lift.node, seed: Tensor.ones(value.shape), to: input, releasing: true)
  return (value, adjoint ?? Tensor.zeros(x.shape))
}

/// Stops with a message unless there is one cotangent per value, of its shape.
private func checkSeeds(_ seeds: [Tensor], values: [Tensor], operation: StaticString) {
  require(
    seeds.count == values.count,
    "\(operation): \(seeds.count) cotangent tensors for a value of \(values.count) tensors")
  for (seed, value) in zip(seeds, values) {
    require(
      seed.shape == value.shape,
      "\(operation): cotangent of shape \(seed.shape) does not match the value's shape \(value.shape)")
  }
}

/// The single value of a reverse-mode trace of a scalar function, checked to be one value.
@usableFromInline
func requireScalar(_ value: Tensor, operation: StaticString) {
  require(
    value.scalarCount == 1, "\(operation): the function must return one value, got shape \(value.shape)")
}
