// Rematerialization: a block whose intermediate values are recomputed during the backward
// pass instead of kept on the tape (`jax.checkpoint`).

/// Final box for the output layout a checkpointed block learns on its first evaluation.
private final class OutputLayout<Q> {
  var value: Q?
}

/// The function `body`, differentiated by recomputing its inside: an enclosing reverse-mode
/// operator keeps only the block's input and output, and the backward pass re-runs the
/// block (with a tape of its own) when it reaches it.
///
/// ```swift
/// // K inner steps in blocks of √K: memory of √K blocks' ends plus one block's tape.
/// let hypergradient = gradient(at: x) { x in
///   var state = y0
///   for _ in 0..<blocks {
///     state = checkpointed { (p: [Tensor]) in [run(p[0], p[1], steps: blockLength)] }([x, state])[0]
///   }
///   return f(x, state)
/// }
/// ```
/// Forward mode and nesting work as for any other operation: the block's derivative rules
/// are the block's own `jvp` and `pullback`, evaluated when needed. Everything the block
/// depends on that is differentiated must come in through its argument; a captured
/// tensor that is being differentiated stops the program with a message.
///
/// - Parameter body: the block, from any structure to any structure.
/// - Returns: the same function, with recomputation in reverse mode.
/// - Complexity: one more evaluation of the block per backward pass through it; memory of
///   its input and output instead of its whole tape.
public func checkpointed<P: TensorStructure, Q: TensorStructure>(_ body: @escaping (P) -> Q) -> (P) -> Q {
  { input in
    let inputLayout = input.mapTensors { withoutDerivative(at: $0) }
    let outputLayout = OutputLayout<Q>()
    let flatBody: (Tensor) -> Tensor = { flat in
      let output = body(inputLayout.unflattened(flat))
      if outputLayout.value == nil { outputLayout.value = output.mapTensors { withoutDerivative(at: $0) } }
      return output.flattened()
    }
    let block = differentiableFunction(
      { flat in
        let output = flatBody(flat)
        // The block runs on constants here; a non-constant result means it captured a
        // tensor being differentiated, whose derivative this block would lose.
        require(
          output.isConstant,
          "checkpointed: the block captures a tensor that is being differentiated; pass it in through the block's argument"
        )
        return output
      },
      jvp: { x, _, tangent in jvp(at: x, direction: tangent, of: flatBody).tangent },
      vjp: { x, _, cotangent in pullback(at: x, of: flatBody)(cotangent) })
    let output = block(input.flattened())
    return outputLayout.value!.unflattened(output)
  }
}
