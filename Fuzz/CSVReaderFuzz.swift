// libFuzzer target for the strict numeric CSV reader (Sources/BilevelAD/Data/CSVReader.swift).
// Build and run with `Fuzz/run.sh CSVReaderFuzz 60`.
//
// Checks, beyond "no crash, no sanitizer report":
// - a table that loads is consistent: rows × columns values, all finite, rows on
//   increasing lines;
// - an error names a line and column of at least 1;
// - valid UTF-8 gives the same answer through `parse(_: String)` as through the bytes;
// - the values, printed back as CSV, read back bit for bit.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = UnsafeBufferPointer(start: data, count: size)
  let result: Result<NumericTable, CSVError>
  do {
    result = .success(try CSVReader.parse(bytes: bytes))
  } catch {
    result = .failure(error)
  }

  switch result {
  case .success(let table):
    precondition(table.rows >= 1 && table.columns >= 1)
    precondition(table.values.count == table.rows * table.columns)
    precondition(table.values.allSatisfy(\.isFinite))
    precondition(table.header.map { $0.count == table.columns } ?? true)
    var previousLine = 0
    for row in 0..<table.rows {
      let line = table.line(ofRow: row)
      precondition(line > previousLine)
      previousLine = line
    }
    // Print the values back in shortest round-trip form and read them again.
    var text = ""
    for row in 0..<table.rows {
      for column in 0..<table.columns {
        if column > 0 { text += "," }
        text += "\(table[row, column])"
      }
      text += "\n"
    }
    let reread = try! CSVReader.parse(text)
    precondition(reread.values.map(\.bitPattern) == table.values.map(\.bitPattern))
    precondition(reread.line(ofRow: table.rows - 1) == table.rows)
    if let labeled = try? table.splitFeaturesAndLabels(classes: 3) {
      precondition(labeled.labels.allSatisfy { (0..<3).contains($0) })
      precondition(labeled.features.columns == table.columns - 1)
    }
  case .failure(let error):
    precondition((error.line ?? 1) >= 1 && (error.column ?? 1) >= 1)
    precondition(!error.description.isEmpty)
  }

  if let text = String(validating: bytes, as: UTF8.self) {
    let viaString: Result<NumericTable, CSVError>
    do {
      viaString = .success(try CSVReader.parse(text))
    } catch {
      viaString = .failure(error)
    }
    switch (result, viaString) {
    case (.success(let a), .success(let b)):
      precondition(a.values.map(\.bitPattern) == b.values.map(\.bitPattern) && a.header == b.header)
    case (.failure(let a), .failure(let b)):
      precondition(a == b)
    default:
      preconditionFailure("bytes and String disagree")
    }
  }
  return 0
}
