import Foundation
import Synchronization

/// A single status line on standard error that rewrites itself in place with `\r`.
///
/// It is shown only when standard error is a terminal (`isatty(2)`), so redirected or
/// piped output stays clean, and updates are throttled so that a tight loop does not
/// spend its time writing to the terminal:
///
///     let progress = ProgressLine()
///     for iteration in 0..<iterations {
///       ...
///       progress.update("soba: iteration \(iteration + 1)/\(iterations), loss \(loss)")
///     }
///     progress.finish()
///
/// Safe to share between tasks.
public final class ProgressLine: Sendable {
  private struct State {
    var lastWrite: ContinuousClock.Instant?
    var isShowing = false
  }

  /// Whether anything is written at all.
  public let isEnabled: Bool
  /// The least time between two written updates.
  public let minimumInterval: Duration
  private let width: Int
  private let output: @Sendable (String) -> Void
  private let state = Mutex(State())

  /// A progress line on standard error, enabled when standard error is a terminal.
  ///
  /// - Parameter minimumInterval: The least time between two written updates.
  public convenience init(minimumInterval: Duration = .milliseconds(100)) {
    self.init(
      isEnabled: isatty(2) != 0, minimumInterval: minimumInterval,
      output: ProgressLine.writeToStandardError)
  }

  /// A progress line that writes to `output`, for tests and other sinks.
  ///
  /// - Parameters:
  ///   - isEnabled: Whether to write anything.
  ///   - minimumInterval: The least time between two written updates.
  ///   - width: The terminal width; lines are cut to one less than this.
  ///   - output: Receives the control sequences and text.
  public init(
    isEnabled: Bool, minimumInterval: Duration = .milliseconds(100), width: Int? = nil,
    output: @escaping @Sendable (String) -> Void
  ) {
    self.isEnabled = isEnabled
    self.minimumInterval = minimumInterval
    self.width = max(10, width ?? ProcessInfo.processInfo.environment["COLUMNS"].flatMap { Int($0) } ?? 80)
    self.output = output
  }

  /// Replaces the line's text, unless the last update was written less than
  /// `minimumInterval` ago.
  ///
  /// - Parameter text: One line; line breaks become spaces and it is cut to the width.
  public func update(_ text: String) {
    guard isEnabled else { return }
    let now = ContinuousClock.now
    state.withLock { state in
      if let last = state.lastWrite, now - last < minimumInterval { return }
      state.lastWrite = now
      state.isShowing = true
      var line = String(text.map { $0.isNewline ? " " : $0 })
      if line.count >= width { line = String(line.prefix(width - 2)) + "…" }
      // Carriage return, the text, then erase what is left of a longer previous line.
      output("\r" + line + "\u{1B}[K")
    }
  }

  /// Erases the line, so that what is printed next starts on a clean line.
  public func finish() {
    guard isEnabled else { return }
    state.withLock { state in
      guard state.isShowing else { return }
      state.isShowing = false
      state.lastWrite = nil
      output("\r\u{1B}[K")
    }
  }

  /// Writes text to file descriptor 2 unbuffered.
  @Sendable public static func writeToStandardError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
  }
}
