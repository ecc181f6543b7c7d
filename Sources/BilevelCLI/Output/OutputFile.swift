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
      // Replace regular files atomically; write through anything else (a symlink, a FIFO,
      // a device) instead of replacing it.
      let attributes = try? FileManager.default.attributesOfItem(atPath: path)
      let type = attributes?[.type] as? FileAttributeType
      if let type, type != .typeRegular {
        guard let handle = FileHandle(forWritingAtPath: path) else {
          throw CLIError.cannotOpen(path: path, reason: "cannot open it for writing")
        }
        defer { try? handle.close() }
        if type == .typeSymbolicLink { try handle.truncate(atOffset: 0) }
        try handle.write(contentsOf: Data(text.utf8))
      } else {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
      }
    } catch let error as CLIError {
      throw error
    } catch {
      let reason = (error as NSError).localizedFailureReason ?? error.localizedDescription
      throw .cannotOpen(path: path, reason: reason)
    }
  }
}
