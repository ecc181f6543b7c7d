import Foundation
import Synchronization
import Testing

@testable import BilevelCLI

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// Numbers that are easy to get wrong when printed and read back.
private let awkwardNumbers: [Double] = [
  0, -0.0, 0.1, 0.2 + 0.1, 1.0 / 3, -2.5, 1e-5, 1e-300, .leastNonzeroMagnitude, 2.2250738585072014e-308,
  .pi, 1e16, 123_456_789.123_456_78, 1.7976931348623157e308, -1.7976931348623157e308,
]

@Suite("Output")
struct OutputTests {
  // MARK: TextTable

  @Test("a table right-aligns numbers and left-aligns text under a title")
  func table() {
    var table = TextTable(title: "Results: quadratic", headers: ["algorithm", "iterations", "final loss"])
    table.append(["soba", "100", TextTable.format(0.000_123_456)])
    table.append(["stocbio", "2000", TextTable.format(12.5)])
    #expect(
      table.rendered() == """
        Results: quadratic
        algorithm  iterations  final loss
        ---------  ----------  ----------
        soba              100   0.0001235
        stocbio          2000        12.5
        """)
    #expect(table.description == table.rendered())
  }

  @Test("explicit alignment, empty cells and line breaks in cells")
  func tableAlignment() {
    var table = TextTable(columns: [.init("name", alignment: .right), .init("value", alignment: .left)])
    table.append(["a", "1"])
    table.append(["long\nname", ""])
    let expected = [
      "     name  value",
      "---------  -----",
      "        a  1",
      "long name",
    ]
    #expect(table.rendered() == expected.joined(separator: "\n"))
  }

  @Test("table number formatting")
  func tableFormat() {
    #expect(TextTable.format(1_234_567) == "1.235e+06")
    #expect(TextTable.format(0.5, significantDigits: 2) == "0.5")
    #expect(TextTable.format(.nan) == "nan")
    #expect(TextTable.format(-.infinity) == "-inf")
  }

  @Test("output files are written, and an unwritable path is a cannot-create error (73)")
  func writingFiles() throws {
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("OutputTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let console = RecordingConsole().console
    let jsonPath = directory.appendingPathComponent("a.json").path
    try OutputFile.write(try JSONWriter.encode(["b": 2, "a": 1], pretty: false) + "\n", to: jsonPath, console: console)
    #expect(try String(contentsOfFile: jsonPath, encoding: .utf8) == "{\"a\":1,\"b\":2}\n")
    let missing = directory.appendingPathComponent("no/such/dir/a.csv").path
    let error = #expect(throws: CLIError.self) { try OutputFile.write("x\n", to: missing, console: console) }
    guard case .cannotCreate(let errorPath, _) = error else {
      Issue.record("expected a cannot-create error, got \(String(describing: error))")
      return
    }
    #expect(errorPath == missing && error?.exitCode == 73)
  }

  // MARK: JSONWriter

  struct Trace: Codable, Equatable {
    var algorithm: String
    var losses: [Double]
  }

  @Test("JSON numbers read back as the same doubles, non-finite ones included")
  func jsonRoundTrip() throws {
    let trace = Trace(algorithm: "soba \"v2\" / ü", losses: awkwardNumbers + [.infinity, -.infinity])
    for pretty in [true, false] {
      let text = try JSONWriter.encode(trace, pretty: pretty)
      let decoded = try JSONWriter.decode(Trace.self, from: text)
      #expect(decoded.algorithm == trace.algorithm)
      #expect(decoded.losses.map(\.bitPattern) == trace.losses.map(\.bitPattern))
    }
    let nan = try JSONWriter.decode([Double].self, from: JSONWriter.encode([Double.nan]))
    #expect(nan.count == 1 && nan[0].isNaN)
  }

  @Test("JSON output has sorted keys and readable numbers")
  func jsonLayout() throws {
    #expect(
      try JSONWriter.encode(Trace(algorithm: "bome", losses: [0.1, 1]), pretty: false)
        == #"{"algorithm":"bome","losses":[0.1,1]}"#)
    #expect(
      try JSONWriter.encode(["b": 1, "a": 2]) == """
        {
          "a" : 2,
          "b" : 1
        }
        """)
  }

  // MARK: SVGPlot

  /// Parses SVG text with `XMLParser` and counts elements by name.
  final class ElementCounter: NSObject, XMLParserDelegate {
    var counts: [String: Int] = [:]
    var texts: [String] = []
    private var currentText = ""

    func parser(
      _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
      qualifiedName: String?, attributes: [String: String] = [:]
    ) {
      counts[elementName, default: 0] += 1
      currentText = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
      currentText += string
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
      if elementName == "text" || elementName == "title" { texts.append(currentText) }
      currentText = ""
    }
  }

  /// The element counts and texts of a document, or `nil` if it is not well-formed.
  private func parseSVG(_ svg: String) -> ElementCounter? {
    let parser = XMLParser(data: Data(svg.utf8))
    let counter = ElementCounter()
    parser.delegate = counter
    return parser.parse() ? counter : nil
  }

  @Test("a plot is well-formed SVG with one path per series, bands and an escaped legend")
  func svgWellFormed() throws {
    let x = (1...50).map(Double.init)
    var plot = SVGPlot(
      title: "Loss <log> & \"quotes\" 'too'", xLabel: "iteration", yLabel: "loss",
      yScale: .logarithmic)
    plot.series.append(
      .init(
        name: "SOBA <fast> & good", x: x, y: x.map { 1 / $0 },
        lower: x.map { 0.5 / $0 }, upper: x.map { 2 / $0 }))
    plot.series.append(.init(name: "BOME\u{1}\u{7}", x: x, y: x.map { exp(-$0 / 10) }))
    plot.series.append(.init(name: "with gaps", x: x, y: x.map { Int($0) % 7 == 0 ? -1 : $0 }))
    plot.series.append(.init(name: "not drawable", x: [1, 2], y: [0, .nan]))
    let svg = plot.rendered()
    #expect(svg.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\""))
    #expect(svg.contains("xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\""))
    let counter = try #require(parseSVG(svg))
    #expect(counter.counts["svg"] == 1)
    #expect(counter.counts["path"] == 3)
    #expect(counter.counts["polygon"] == 1)
    #expect(counter.texts.contains("SOBA <fast> & good"))
    #expect(counter.texts.contains("BOME"))
    #expect(counter.texts.contains("Loss <log> & \"quotes\" 'too'"))
    // A y value that cannot go on a logarithmic axis breaks the line into pieces.
    let gaps = svg.split(separator: "\n").first { $0.contains("#2ca02c") && $0.hasPrefix("<path") }
    #expect(gaps.map { $0.components(separatedBy: "M").count - 1 } == 8)
    // Decade ticks on the logarithmic axis.
    #expect(counter.texts.contains("0.01") && counter.texts.contains("1"))
  }

  @Test(
    "degenerate plots are still well-formed",
    arguments: [
      [SVGPlot.Series](),
      [.init(name: "empty", x: [], y: [])],
      [.init(name: "one point", x: [3], y: [3])],
      [.init(name: "flat", x: [0, 1, 2], y: [5, 5, 5])],
      [.init(name: "huge", x: [-1.7976931348623157e308, 1.7976931348623157e308], y: [-1e308, 1e308])],
      [
        .init(
          name: "tiny", x: [.leastNonzeroMagnitude, 2 * .leastNonzeroMagnitude], y: [.leastNonzeroMagnitude, 1e-300])
      ],
      [.init(name: "non-finite", x: [.nan, .infinity], y: [.nan, -.infinity])],
    ])
  func svgDegenerate(series: [SVGPlot.Series]) throws {
    for (xScale, yScale) in [(SVGPlot.Scale.linear, SVGPlot.Scale.linear), (.logarithmic, .logarithmic)] {
      var plot = SVGPlot(xScale: xScale, yScale: yScale)
      plot.series = series
      let svg = plot.rendered()
      let counter = try #require(parseSVG(svg), "not well-formed:\n\(svg)")
      #expect(counter.counts["svg"] == 1)
      #expect(!svg.contains("nan") && !svg.contains("inf"))
    }
  }

  // MARK: ProgressLine

  /// Collects what a progress line writes.
  final class Recorder: Sendable {
    private let lines = Mutex<[String]>([])
    func record(_ text: String) { lines.withLock { $0.append(text) } }
    var recorded: [String] { lines.withLock { $0 } }
  }

  @Test("a disabled progress line writes nothing")
  func progressDisabled() {
    let recorder = Recorder()
    let progress = ProgressLine(isEnabled: false, output: { recorder.record($0) })
    progress.update("working")
    progress.finish()
    #expect(recorder.recorded.isEmpty)
  }

  @Test("a progress line rewrites itself with \\r, throttled, and clears itself")
  func progressThrottled() {
    let recorder = Recorder()
    let progress = ProgressLine(
      isEnabled: true, minimumInterval: .seconds(3600), width: 20, output: { recorder.record($0) })
    progress.update("step 1")
    progress.update("step 2")
    progress.update("step 3")
    progress.finish()
    progress.finish()
    progress.update("a very long line that does not fit in twenty columns\nat all")
    #expect(
      recorder.recorded == [
        "\rstep 1\u{1B}[K", "\r\u{1B}[K", "\ra very long line t…\u{1B}[K",
      ])
  }
}
