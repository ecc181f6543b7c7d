import BilevelAD
import Foundation
import Testing

/// The error that parsing `text` throws, recording an issue if it parses.
private func csvError(_ text: String) -> CSVError? {
  do {
    let table = try CSVReader.parse(text)
    Issue.record("expected an error, got \(table.rows) × \(table.columns)")
    return nil
  } catch {
    return error
  }
}

@Suite("CSV reader")
struct CSVReaderTests {
  // MARK: Files that load

  @Test("a plain numeric file loads row-major")
  func plain() throws {
    let table = try CSVReader.parse("1,2,3\n4,5,6\n")
    #expect(table.header == nil)
    #expect(table.rows == 2 && table.columns == 3)
    #expect(table.values == [1, 2, 3, 4, 5, 6])
    #expect(table[1, 0] == 4)
    #expect(table.line(ofRow: 1) == 2)
  }

  @Test("a header is detected when every cell of the first row is text, or declared")
  func header() throws {
    let table = try CSVReader.parse("x1,x2,label\n0.5,-1,1\n")
    #expect(table.header == ["x1", "x2", "label"])
    #expect(table.values == [0.5, -1, 1])
    #expect(table.line(ofRow: 0) == 2)
    let numericNames = try CSVReader.parse("0,1,label\n7,8,9\n", header: true)
    #expect(numericNames.header == ["0", "1", "label"])
    // A typo in the first data row is a bad cell, not a header that drops the row.
    #expect(throws: CSVError.nonNumeric(line: 1, column: 2, cell: "1O.5")) { try CSVReader.parse("3,1O.5,1\n7,8,9\n") }
    let declaredData = try CSVReader.parse("1,2\n3,4\n", header: false)
    #expect(declaredData.header == nil && declaredData.rows == 2)
  }

  @Test(
    "line endings, a byte order mark and a missing final newline do not matter",
    arguments: [
      "a,b\n1,2\n3,4\n", "a,b\r\n1,2\r\n3,4\r\n", "a,b\r1,2\r3,4", "\u{FEFF}a,b\n1,2\n3,4",
      "\u{FEFF}a,b\r\n1,2\r\n3,4\r\n\r\n", "a,b\n1,2\n3,4\n\n\n",
    ])
  func lineEndings(text: String) throws {
    let table = try CSVReader.parse(text)
    #expect(table == NumericTable(header: ["a", "b"], rows: 2, columns: 2, values: [1, 2, 3, 4]))
  }

  @Test("spaces around fields, quoted fields and escaped quotes")
  func quotingAndSpaces() throws {
    let table = try CSVReader.parse(" \"first, name\" ,\"say \"\"hi\"\"\"\n  1.5 ,\t\" -2 \"\n")
    #expect(table.header == ["first, name", "say \"hi\""])
    #expect(table.values == [1.5, -2])
    let multiline = try CSVReader.parse("\"a\nb\",c\n1,2\n3,4\n")
    #expect(multiline.header == ["a\nb", "c"])
    #expect(multiline.line(ofRow: 0) == 3 && multiline.line(ofRow: 1) == 4)
  }

  @Test("blank lines are skipped and line numbers still count them")
  func blankLines() throws {
    let table = try CSVReader.parse("1,2\n\n   \n3,4\n")
    #expect(table.values == [1, 2, 3, 4])
    #expect(table.line(ofRow: 1) == 4)
    #expect(csvError("1,2\n\n3,x\n") == .nonNumeric(line: 3, column: 2, cell: "x"))
  }

  @Test("numbers in every decimal spelling read as Double(_:) reads them")
  func numberSpellings() throws {
    let cells = [
      "0", "-0", "+1", ".5", "5.", "1e3", "1E+3", "-2.5e-3", "0.1", "123456789012345678901234",
      "0.30000000000000004", "4.9e-324", "1e-400", "1.7976931348623157e308", "007",
    ]
    let table = try CSVReader.parse(cells.joined(separator: ","))
    #expect(table.values.map(\.bitPattern) == cells.map { Double($0)!.bitPattern })
  }

  @Test("random doubles survive printing and reading exactly")
  func randomRoundTrip() throws {
    var generator = CSVTestRandomGenerator(seed: 42)
    let values = (0..<2000).map { index -> Double in
      let bits = generator.next() & 0x7FEF_FFFF_FFFF_FFFF  // finite
      return index % 2 == 0 ? Double(bitPattern: bits) : Double(Int64(bitPattern: bits) % 10_000) / 1000
    }
    let text = stride(from: 0, to: values.count, by: 10).map { start in
      values[start..<start + 10].map { "\($0)" }.joined(separator: ",")
    }.joined(separator: "\n")
    let table = try CSVReader.parse(text)
    #expect(table.rows == 200 && table.columns == 10)
    #expect(table.values.map(\.bitPattern) == values.map(\.bitPattern))
  }

  @Test("more columns than rows, and a single column")
  func shapes() throws {
    let wide = try CSVReader.parse("1,2,3,4,5,6,7\n8,9,10,11,12,13,14\n")
    #expect(wide.rows == 2 && wide.columns == 7)
    let single = try CSVReader.parse("y\n1\n2\n")
    #expect(single.header == ["y"] && single.values == [1, 2])
  }

  /// Linear in the row's length, checked by a ratio of two timings taken back to back (a
  /// wall-clock bound failed on a loaded CI machine: 1.29 s for the million columns): a
  /// reader quadratic in the row would take 16 times as long for 4 times the columns.
  @Test("a row of a million columns loads, in time linear in the row's length")
  func millionColumns() throws {
    func row(_ count: Int) -> String { String(repeating: "1.5,", count: count - 1) + "2\n" }
    func seconds(_ text: String) throws -> Double {
      let start = ContinuousClock.now
      _ = try CSVReader.parse(text)
      let elapsed = ContinuousClock.now - start
      return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
    let (small, large) = (row(250_000), row(1_000_000))
    let table = try CSVReader.parse(large)
    #expect(table.rows == 1 && table.columns == 1_000_000)
    #expect(table.values[0] == 1.5 && table.values[999_999] == 2)
    // The fastest of three of each, so that one descheduled run does not decide.
    let smallTime = try (0..<3).map { _ in try seconds(small) }.min()!
    let largeTime = try (0..<3).map { _ in try seconds(large) }.min()!
    #expect(largeTime < 10 * smallTime, "250000 columns: \(smallTime) s, 1000000: \(largeTime) s")
  }

  @Test("a million-column row with a bad last cell reports its column")
  func millionColumnsError() {
    let text = String(repeating: "1,", count: 999_999) + "nan\n"
    #expect(csvError(text) == .nonFinite(line: 1, column: 1_000_000, cell: "nan"))
  }

  // MARK: Files that are rejected, with line and column

  @Test("empty files", arguments: ["", "\u{FEFF}", "\n\n", "  \r\n\t\n"])
  func empty(text: String) {
    #expect(csvError(text) == .emptyFile)
  }

  @Test("a header without data", arguments: ["a,b", "a,b\n", "\u{FEFF}a,b\r\n\r\n", "\n\nname\n"])
  func headerOnly(text: String) {
    let error = csvError(text)
    #expect(error == .headerOnly(line: text.hasPrefix("\n\n") ? 3 : 1))
  }

  @Test("ragged rows name the line and the first missing or extra field")
  func ragged() {
    let short = csvError("a,b,c\n1,2,3\n4,5\n")
    #expect(short == .raggedRow(line: 3, expected: 3, got: 2))
    #expect(short?.column == 3)
    #expect(short?.description == "line 3: expected 3 fields, got 2")
    let long = csvError("1,2\n3,4,5,6\n")
    #expect(long == .raggedRow(line: 2, expected: 2, got: 4))
    #expect(long?.column == 3)
    #expect(csvError("1,2\n3,4,\n") == .raggedRow(line: 2, expected: 2, got: 3))
  }

  @Test("non-numeric cells are quoted in the message")
  func nonNumeric() {
    let error = csvError("x,y\n1,2\n3,abc\n")
    #expect(error == .nonNumeric(line: 3, column: 2, cell: "abc"))
    #expect(error?.line == 3 && error?.column == 2)
    #expect(error?.description == "line 3, column 2: non-numeric cell 'abc'")
    #expect(csvError("1,2\n3,\n") == .nonNumeric(line: 2, column: 2, cell: ""))
    #expect(csvError("1,,2\n") == .nonNumeric(line: 1, column: 2, cell: ""))
    #expect(csvError("1,2\n0x1p3,4\n") == .nonNumeric(line: 2, column: 1, cell: "0x1p3"))
    #expect(csvError("1,2\n1.2.3,4\n") == .nonNumeric(line: 2, column: 1, cell: "1.2.3"))
    #expect(csvError("1,2\n1e,4\n") == .nonNumeric(line: 2, column: 1, cell: "1e"))
    #expect(csvError("1,2\n-,4\n") == .nonNumeric(line: 2, column: 1, cell: "-"))
    #expect(csvError("1,2\n1_000,4\n") == .nonNumeric(line: 2, column: 1, cell: "1_000"))
  }

  @Test(
    "NaN and infinite values",
    arguments: ["nan", "NaN", "-nan", "inf", "-Inf", "+INF", "infinity", "-Infinity"])
  func nonFinite(cell: String) {
    #expect(csvError("a,b\n1,2\n3,\(cell)\n") == .nonFinite(line: 3, column: 2, cell: cell))
    #expect(csvError("\(cell),1\n") == .nonFinite(line: 1, column: 1, cell: cell))
  }

  @Test("numbers beyond Double's range", arguments: ["1e999", "-1e999", "1.8e308", "123e400"])
  func outOfRange(cell: String) {
    let error = csvError("1,2\n\(cell),0\n")
    #expect(error == .outOfRange(line: 2, column: 1, cell: cell))
    #expect(error?.description == "line 2, column 1: '\(cell)' is out of the range of Double")
  }

  @Test("malformed quotes")
  func malformedQuotes() {
    #expect(csvError("1,2\n\"3\"x,4\n") == .malformedQuote(line: 2, column: 1))
    #expect(csvError("1,2\n3,\"4\n") == .malformedQuote(line: 2, column: 2))
  }

  @Test("long or control-character cells are shortened and escaped in messages")
  func hostileCell() {
    let long = String(repeating: "z", count: 100)
    #expect(csvError("1\n\(long)\n") == .nonNumeric(line: 2, column: 1, cell: String(repeating: "z", count: 39) + "…"))
    #expect(csvError("1\n\"a\u{1B}b\"\n") == .nonNumeric(line: 2, column: 1, cell: "a\\u{1B}b"))
  }

  // MARK: Files on disk

  @Test("a file that cannot be opened names the path and the reason")
  func cannotOpen() throws {
    let error = #expect(throws: CSVError.self) { try CSVReader.read(contentsOf: "/no/such/file.csv") }
    #expect(error == .cannotOpen(path: "/no/such/file.csv", reason: "No such file or directory"))
    #expect(error?.description == "cannot open '/no/such/file.csv': No such file or directory")
    let directory = #expect(throws: CSVError.self) {
      try CSVReader.read(contentsOf: FileManager.default.temporaryDirectory.path)
    }
    #expect(directory?.line == nil)
  }

  @Test("a file on disk reads like its text")
  func readFile() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("CSVReaderTests-\(UUID().uuidString).csv")
    let text = "\u{FEFF}f1,f2,label\r\n0.25,1e-3,1\r\n-4,5,0\r\n"
    try Data(text.utf8).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    #expect(try CSVReader.read(contentsOf: url.path) == CSVReader.parse(text))
  }

  // MARK: Features and labels

  @Test("the last column becomes integer labels")
  func labels() throws {
    let labeled = try CSVReader.parse("a,b,label\n1,2,0\n3,4,2\n5,6,1\n").splitFeaturesAndLabels(classes: 3)
    #expect(labeled.features == NumericTable(header: ["a", "b"], rows: 3, columns: 2, values: [1, 2, 3, 4, 5, 6]))
    #expect(labeled.labels == [0, 2, 1])
    #expect(labeled.classes == 3)
  }

  @Test("a single class")
  func singleClass() throws {
    let labeled = try CSVReader.parse("1,0\n2,0\n").splitFeaturesAndLabels(classes: 1)
    #expect(labeled.labels == [0, 0])
    #expect(labeled.features.values == [1, 2])
  }

  @Test(
    "labels outside the classes or not integers name their line and column",
    arguments: [("2", 2.0), ("-1", -1.0), ("0.5", 0.5), ("7", 7.0)])
  func badLabel(cell: String, value: Double) {
    let text = "x,y,label\n1,2,0\n\n3,4,\(cell)\n"
    let table = try? CSVReader.parse(text)
    let error = #expect(throws: CSVError.self) { try table?.splitFeaturesAndLabels(classes: 2) }
    #expect(error == .invalidLabel(line: 4, column: 3, value: value, classes: 2))
    #expect(error?.line == 4 && error?.column == 3)
  }

  @Test("the label message shows the value")
  func labelMessage() {
    #expect(
      CSVError.invalidLabel(line: 4, column: 3, value: 2, classes: 2).description
        == "line 4, column 3: the label 2 is not an integer in 0..<2")
    #expect(
      CSVError.invalidLabel(line: 4, column: 3, value: 0.5, classes: 2).description
        == "line 4, column 3: the label 0.5 is not an integer in 0..<2")
  }

  @Test("a single column has no features")
  func noFeatures() throws {
    let table = try CSVReader.parse("label\n0\n1\n")
    #expect(throws: CSVError.missingFeatures(line: 2, columns: 1)) { try table.splitFeaturesAndLabels(classes: 2) }
  }
}

/// A small seeded generator (CSVTestRandomGenerator), so that the random test is reproducible.
private struct CSVTestRandomGenerator: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
