import Foundation

/// Writing the tool's text output to a file, or to standard output for the path `-`.
enum OutputFile {
  /// Writes `text` to `path`, replacing the file; `-` writes to standard output.
  ///
  /// - Parameters:
  ///   - text: The contents.
  ///   - path: A file path, or `-`.
  ///   - console: Where `-` writes.
  /// Regular files are written atomically: to a temporary file beside the target, renamed
  /// over it when complete (an interrupted write leaves the old file, not half a new one).
  /// - Throws: `CLIError.cannotCreate` with the system's reason if the file cannot be
  ///   written (exit status 73).
  static func write(_ text: String, to path: String, console: Console) throws(CLIError) {
    if path == "-" {
      console.output(text)
      return
    }
    do {
      // Replace regular files atomically; write through anything else (a symlink, a FIFO,
      // a device) instead of replacing it.
      let attributes = try? FileManager.default.attributesOfItem(atPath: path)
      let type = attributes?[.type] as? FileAttributeType
      if let type, type != .typeRegular {
        guard let handle = FileHandle(forWritingAtPath: path) else {
          throw CLIError.cannotCreate(path: path, reason: "cannot open it for writing")
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
      throw .cannotCreate(path: path, reason: reason)
    }
  }

  /// Checks, before any work, that `path` can be written: its folder exists and is
  /// writable, and it is not a folder itself.
  ///
  /// - Throws: `CLIError.cannotCreate` naming the problem.
  static func checkWritable(_ path: String) throws(CLIError) {
    if path == "-" { return }
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
      if isDirectory.boolValue { throw .cannotCreate(path: path, reason: "it is a directory") }
      if !FileManager.default.isWritableFile(atPath: path) { throw .cannotCreate(path: path, reason: "permission denied") }
      return
    }
    let folder = (path as NSString).deletingLastPathComponent
    let parent = folder.isEmpty ? "." : folder
    guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw .cannotCreate(path: path, reason: "the directory '\(parent)' does not exist")
    }
    if !FileManager.default.isWritableFile(atPath: parent) {
      throw .cannotCreate(path: path, reason: "the directory '\(parent)' is not writable")
    }
  }

  /// The path with symbolic links resolved and made absolute, for comparing two paths.
  static func canonical(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
  }
}
