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
        try writeAtomically(Data(text.utf8), to: path)
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
      if !FileManager.default.isWritableFile(atPath: path) {
        throw .cannotCreate(path: path, reason: "permission denied")
      }
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

  /// Writes `data` to a temporary file beside `path` and renames it over `path`. While the
  /// temporary file exists, an interrupt (SIGINT, SIGTERM) removes it before the process
  /// ends, so neither a half-written output nor a stray temporary file is left behind.
  static func writeAtomically(_ data: Data, to path: String) throws {
    let temporary = "\(path).tmp-\(getpid())"
    PendingTemporaryFile.set(temporary)
    defer { PendingTemporaryFile.set(nil) }
    do {
      try data.write(to: URL(fileURLWithPath: temporary))
      guard rename(temporary, path) == 0 else {
        let reason = String(cString: strerror(errno))
        unlink(temporary)
        throw CLIError.cannotCreate(path: path, reason: reason)
      }
    } catch {
      unlink(temporary)
      throw error
    }
  }

  /// The path with symbolic links resolved and made absolute, for comparing two paths.
  static func canonical(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
  }
}

/// The temporary file an atomic write is filling, removed by the interrupt handler.
///
/// The handler may only use async-signal-safe calls, so the path is kept as a C string in
/// a buffer that lives for the whole process. After removing the file, the handler
/// restores the default action and raises the signal again, so that the process ends as
/// an interrupted one (a shell script stops on Ctrl-C as usual). `set` is called by the
/// command being run, one output at a time.
enum PendingTemporaryFile {
  private nonisolated(unsafe) static let buffer: UnsafeMutablePointer<CChar> = {
    let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: 4096)
    buffer[0] = 0
    return buffer
  }()
  private nonisolated(unsafe) static var installed = false

  /// Records `path` (nil: none) as the file to remove on an interrupt.
  static func set(_ path: String?) {
    let buffer = Self.buffer  // initialized before any handler can read it
    if !installed {
      installed = true
      for signalNumber in [SIGINT, SIGTERM] {
        signal(signalNumber) { received in
          if PendingTemporaryFile.buffer[0] != 0 { unlink(PendingTemporaryFile.buffer) }
          signal(received, SIG_DFL)
          raise(received)
        }
      }
    }
    // Disable first, copy, and enable last: a signal in between never sees a mixed path.
    buffer[0] = 0
    guard let path, path.utf8.count < 4095 else { return }
    let bytes = Array(path.utf8)
    for (index, byte) in bytes.enumerated().dropFirst() { buffer[index] = CChar(bitPattern: byte) }
    buffer[bytes.count] = 0
    if let first = bytes.first { buffer[0] = CChar(bitPattern: first) }
  }
}
