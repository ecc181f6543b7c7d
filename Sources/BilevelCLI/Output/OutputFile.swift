import Foundation

/// Writing the tool's text output to a file, or to standard output for the path `-`.
enum OutputFile {
  /// Writes `text` to `path`, replacing the file; `-` writes to standard output.
  ///
  /// - Parameters:
  ///   - text: The contents.
  ///   - path: A file path, or `-`.
  /// - Throws: `CLIError.cannotOpen` with the system's reason if the file cannot be written.
  static func write(_ text: String, to path: String) throws(CLIError) {
    if path == "-" {
      FileHandle.standardOutput.write(Data(text.utf8))
      return
    }
    do {
      try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
      let reason = (error as NSError).localizedFailureReason ?? error.localizedDescription
      throw .cannotOpen(path: path, reason: reason)
    }
  }
}
