import Foundation

/// JSON output through Foundation's `JSONEncoder`: sorted keys for stable diffs, numbers
/// in shortest round-trip form, and non-finite numbers (a diverged run) as the strings
/// `"nan"`, `"inf"` and `"-inf"` rather than an encoding error.
///
///     struct Summary: Codable { var algorithm: String; var loss: Double }
///     let json = try JSONWriter.encode(Summary(algorithm: "soba", loss: 0.1))
///     // {
///     //   "algorithm" : "soba",
///     //   "loss" : 0.1
///     // }
public enum JSONWriter {
  /// The text of `value` as JSON.
  ///
  /// - Parameters:
  ///   - value: Any `Encodable` value.
  ///   - pretty: Whether to indent, one member per line.
  /// - Returns: The JSON text, without a trailing newline.
  /// - Throws: Whatever `value`'s `encode(to:)` throws.
  public static func encode<T: Encodable>(_ value: T, pretty: Bool = true) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting =
      pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: try encoder.encode(value), as: UTF8.self)
  }

  /// Reads back what `encode(_:pretty:)` wrote, non-finite numbers included.
  ///
  /// - Parameters:
  ///   - type: The type to decode.
  ///   - text: JSON text.
  /// - Returns: The decoded value.
  /// - Throws: `DecodingError` if the text is not JSON of that shape.
  public static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try decoder.decode(type, from: Data(text.utf8))
  }
}
