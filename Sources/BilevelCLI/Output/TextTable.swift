import Autodiff
import Foundation

/// A plain-text table for the terminal: a title, a header row underlined with dashes,
/// columns two spaces apart, numbers right-aligned and text left-aligned.
///
///     Results: quadratic
///     algorithm  iterations  final loss
///     ---------  ----------  ----------
///     soba              100   0.0001234
///     bome              100      0.0021
///
/// Widths count characters (extended grapheme clusters), so text in wide scripts may not
/// line up in every terminal.
public struct TextTable: Sendable, Equatable, CustomStringConvertible {
  /// How a column's cells line up.
  public enum Alignment: Sendable, Equatable {
    case left
    case right
    /// Right if every non-empty cell is a number, otherwise left.
    case automatic
  }

  /// A column: its header and alignment.
  public struct Column: Sendable, Equatable {
    /// The header text.
    public var header: String
    /// How the column's cells, and its header, line up.
    public var alignment: Alignment

    /// Creates a column.
    ///
    /// - Parameters:
    ///   - header: The header text.
    ///   - alignment: How cells line up; `.automatic` right-aligns numbers.
    public init(_ header: String, alignment: Alignment = .automatic) {
      self.header = header
      self.alignment = alignment
    }
  }

  /// A line printed above the table; `nil` for none.
  public var title: String?
  /// The columns, left to right.
  public private(set) var columns: [Column]
  /// The rows added so far, each with one cell per column.
  public private(set) var rows: [[String]] = []

  /// Creates an empty table.
  ///
  /// - Parameters:
  ///   - title: A line printed above the table.
  ///   - columns: The columns, left to right.
  public init(title: String? = nil, columns: [Column]) {
    self.title = title
    self.columns = columns
  }

  /// Creates an empty table whose columns align automatically.
  ///
  /// - Parameters:
  ///   - title: A line printed above the table.
  ///   - headers: The column headers, left to right.
  public init(title: String? = nil, headers: [String]) {
    self.init(title: title, columns: headers.map { Column($0) })
  }

  /// Adds a row.
  ///
  /// - Parameter cells: One cell per column; line breaks are shown as spaces.
  /// - Precondition: `cells.count == columns.count`.
  public mutating func append(_ cells: [String]) {
    require(
      cells.count == columns.count,
      "TextTable.append: a row of \(cells.count) cells in a table of \(columns.count) columns")
    rows.append(cells.map { String($0.map { $0.isNewline ? " " : $0 }) })
  }

  /// The table as text, lines separated by `\n`, without a trailing newline and without
  /// trailing spaces.
  ///
  /// - Returns: The title, the header, a line of dashes, and the rows.
  /// - Complexity: O(total length of the cells).
  public func rendered() -> String {
    let widths = columns.indices.map { column in
      rows.reduce(columns[column].header.count) { max($0, $1[column].count) }
    }
    let rightAligned = columns.indices.map { column in
      switch columns[column].alignment {
      case .left: false
      case .right: true
      case .automatic:
        rows.contains { !$0[column].isEmpty }
          && rows.allSatisfy { $0[column].isEmpty || Self.looksNumeric($0[column]) }
      }
    }
    func line(_ cells: [String]) -> String {
      var text = ""
      for (column, cell) in cells.enumerated() {
        let padding = String(repeating: " ", count: widths[column] - cell.count)
        if column > 0 { text += "  " }
        text += rightAligned[column] ? padding + cell : cell + padding
      }
      while text.last == " " { text.removeLast() }
      return text
    }
    var lines: [String] = []
    if let title { lines.append(title) }
    lines.append(line(columns.map(\.header)))
    lines.append(line(widths.map { String(repeating: "-", count: $0) }))
    lines += rows.map(line)
    return lines.joined(separator: "\n")
  }

  /// The same as `rendered()`.
  public var description: String { rendered() }

  /// A number for a table cell: four significant digits by default, `%g` style.
  ///
  /// - Parameters:
  ///   - value: The number.
  ///   - significantDigits: Digits kept, at least 1.
  /// - Returns: For example `0.0001235`, `12.5`, `1.235e+06`, `nan`, `inf`.
  public static func format(_ value: Double, significantDigits: Int = 4) -> String {
    guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
    return String(format: "%.\(max(1, significantDigits))g", value)
  }

  /// Whether a cell reads as a number (including `nan`, `inf` and a trailing `%` or `x`).
  private static func looksNumeric(_ cell: String) -> Bool {
    var text = Substring(cell)
    if text.last == "%" || text.last == "x" { text = text.dropLast() }
    return Double(text) != nil
  }
}
