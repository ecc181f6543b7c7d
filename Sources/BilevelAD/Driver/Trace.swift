import Foundation

/// One recorded outer iteration of a bilevel algorithm.
public struct TraceRecord: Equatable, Sendable, Codable {
  /// The outer iteration, 0 for the starting point.
  public var iteration: Int
  /// Seconds spent inside the algorithm's steps so far (evaluation excluded).
  public var time: Double
  /// Oracle calls made by the algorithm so far (evaluation excluded).
  public var counts: OracleCounts
  /// F(x) = f(x, y*(x)) with y* solved tightly, when evaluated.
  public var outerValue: Double?
  /// ‖∇F(x)‖, when evaluated (exact for tasks with a closed form, otherwise an implicit
  /// hypergradient at a tightly solved y*).
  public var hypergradientNorm: Double?
  /// ‖d‖ of the direction the algorithm used for its last outer step.
  public var directionNorm: Double?
  /// Task metrics, such as "test accuracy".
  public var metrics: [String: Double]
  /// Why the evaluation at this iteration cannot be trusted (an inner solve or a linear
  /// solve that did not converge, an indefinite inner Hessian); nil when it can. An
  /// unreliable ‖∇F‖ never satisfies a tolerance.
  public var unreliable: String?

  /// A record with every field given.
  public init(
    iteration: Int, time: Double, counts: OracleCounts, outerValue: Double? = nil,
    hypergradientNorm: Double? = nil, directionNorm: Double? = nil, metrics: [String: Double] = [:],
    unreliable: String? = nil
  ) {
    self.unreliable = unreliable
    self.iteration = iteration
    self.time = time
    self.counts = counts
    self.outerValue = outerValue
    self.hypergradientNorm = hypergradientNorm
    self.directionNorm = directionNorm
    self.metrics = metrics
  }

  /// The record without its wall time: what must be identical between two runs with the
  /// same seed.
  public var deterministicPart: TraceRecord {
    var copy = self
    copy.time = 0
    return copy
  }
}

/// The history of one run: a record per evaluated iteration.
public struct Trace: Equatable, Sendable, Codable {
  /// The algorithm's name, as in the literature ("bome", "soba", ...).
  public var algorithm: String
  /// The records, in iteration order.
  public var records: [TraceRecord]

  /// An empty trace for `algorithm`.
  public init(algorithm: String, records: [TraceRecord] = []) {
    self.algorithm = algorithm
    self.records = records
  }

  /// The names of every task metric that appears in some record, sorted.
  public var metricNames: [String] {
    Array(Set(records.flatMap { $0.metrics.keys })).sorted()
  }

  /// The trace as CSV with a header row: iteration, time, each oracle count, total
  /// oracle calls, outer value, hypergradient norm, direction norm, then each metric.
  /// Missing values are empty cells.
  public func csv() -> String {
    let metrics = metricNames
    var lines = [
      ([
        "algorithm", "iteration", "time", "outer_gradient_x", "outer_gradient_y", "inner_gradient_y",
        "inner_gradient_x", "hessian_vector_products", "cross_products", "inner_values", "outer_values",
        "oracle_calls", "outer_value", "hypergradient_norm", "direction_norm",
      ]
        + metrics.map { $0.replacingOccurrences(of: " ", with: "_") }).joined(separator: ",")
    ]
    func cell(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }
    for r in records {
      let c = r.counts
      let fields: [String] =
        [
          algorithm, "\(r.iteration)", "\(r.time)", "\(c.outerGradientX)", "\(c.outerGradientY)",
          "\(c.innerGradientY)", "\(c.innerGradientX)", "\(c.hessianVectorProducts)", "\(c.crossProducts)",
          "\(c.innerValues)", "\(c.outerValues)", "\(c.total)", cell(r.outerValue), cell(r.hypergradientNorm),
          cell(r.directionNorm),
        ] + metrics.map { cell(r.metrics[$0]) }
      lines.append(fields.joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The trace as JSON (`Codable`), numbers written so that they read back exactly.
  public func json() throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: try encoder.encode(self), as: UTF8.self)
  }

  /// A trace read back from `json()`'s output.
  public static func fromJSON(_ text: String) throws -> Trace {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try decoder.decode(Trace.self, from: Data(text.utf8))
  }
}
