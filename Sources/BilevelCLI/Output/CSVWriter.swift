import Autodiff
import Foundation

/// Builds CSV text: one record per line, fields quoted as RFC 4180 requires, numbers in
/// Swift's shortest round-trip form so that reading them back gives the same `Double`s.
///
///     var csv = CSVWriter(header: ["iteration", "loss"])
///     csv.append([0, 1.5])
///     csv.append([1, 0.1])
///     // iteration,loss
///     // 0.0,1.5
///     // 1.0,0.1
///
/// A field is quoted when it contains a comma, a double quote, a line break, or leading
/// or trailing whitespace; a double quote inside is doubled.
public struct CSVWriter: Sendable, Equatable {
  /// The CSV text so far; every record ends with `lineEnding`.
  public private(set) var text = ""
  /// What ends a record: `"\n"` (the default) or RFC 4180's `"\r\n"`.
  public let lineEnding: String
  /// The number of fields in the first record; later records must match.
  private var fieldCount: Int?

  /// Creates a writer, with an optional header record.
  ///
  /// - Parameters:
  ///   - header: Column names, written as the first record.
  ///   - lineEnding: `"\n"` or `"\r\n"`.
  public init(header: [String]? = nil, lineEnding: String = "\n") {
    require(lineEnding == "\n" || lineEnding == "\r\n", "CSVWriter: unsupported line ending")
    self.lineEnding = lineEnding
    if let header { append(header) }
  }

  /// Appends a record of text fields.
  ///
  /// - Parameter fields: The fields, quoted where needed.
  /// - Precondition: Every record has as many fields as the first.
  public mutating func append(_ fields: [String]) {
    if let fieldCount {
      require(
        fields.count == fieldCount,
        "CSVWriter.append: a record of \(fields.count) fields after records of \(fieldCount)")
    } else {
      fieldCount = fields.count
    }
    text += fields.map(Self.quoted).joined(separator: ",")
    text += lineEnding
  }

  /// Appends a record of numbers, each in shortest round-trip form (`0.1`, `1e-05`; `nan`
  /// and `inf` for non-finite values).
  ///
  /// - Parameter values: The numbers.
  /// - Precondition: Every record has as many fields as the first.
  public mutating func append(_ values: [Double]) {
    append(values.map(Self.format))
  }

  /// Writes the text to a file, or to standard output for `-`.
  ///
  /// - Parameter path: The file to create or replace.
  /// - Throws: `CLIError.cannotOpen` if the file cannot be written.
  public func write(to path: String) throws(CLIError) {
    try OutputFile.write(text, to: path, console: .standard)
  }

  /// A field as it appears in CSV: unchanged, or in double quotes with inner quotes doubled.
  ///
  /// - Parameter field: The field's text.
  /// - Returns: The field, quoted if it contains `,`, `"`, CR or LF, or starts or ends with
  ///   whitespace.
  public static func quoted(_ field: String) -> String {
    let needsQuotes =
      field.contains { $0 == "," || $0 == "\"" || $0.isNewline }
      || field.first?.isWhitespace == true || field.last?.isWhitespace == true
    guard needsQuotes else { return field }
    return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }

  /// A number in Swift's shortest form that reads back as the same `Double`.
  ///
  /// - Parameter value: The number.
  /// - Returns: `value.description`, for example `0.1`, `1e-05`, `-0.0`, `nan`, `inf`.
  public static func format(_ value: Double) -> String {
    value.description
  }
}
