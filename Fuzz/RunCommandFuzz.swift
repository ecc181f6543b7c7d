// libFuzzer target: random bytes as the --data file of a whole `bilevel-cli run` on a small
// task. Build and run with `Fuzz/run.sh RunCommandFuzz 60` (the script compiles the three
// library targets into this one module).
//
// Checks, beyond "no crash, no sanitizer report": the command returns one of the documented
// exit statuses (0, 1, 65), and an error is one line that starts with "Error: ".
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let path = NSTemporaryDirectory() + "run-command-fuzz-\(getpid()).csv"
  FileManager.default.createFile(atPath: path, contents: Data(bytes: data, count: size))
  defer { try? FileManager.default.removeItem(atPath: path) }
  let errors = ErrorLines()
  let console = Console(output: { _ in }, error: { errors.append($0) }, errorIsTerminal: false)
  let status = BilevelCommandLine.run(
    [
      "run", "hyperparam", "--data", path, "--iterations", "2", "--evaluate-every", "1", "--algorithm", "aid-bio,saba",
      "--data-limit", "1",
    ],
    console: console)
  precondition([0, 1, 65].contains(status), "unexpected exit status \(status): \(errors.text)")
  if status != 0 {
    precondition(errors.text.hasPrefix("Error: "), "an error must start with 'Error: ': \(errors.text)")
  }
  return 0
}

/// Standard error, collected.
final class ErrorLines: @unchecked Sendable {
  private let lock = NSLock()
  private var lines = ""
  func append(_ text: String) {
    lock.lock()
    lines += text
    lock.unlock()
  }
  var text: String {
    lock.lock()
    defer { lock.unlock() }
    return lines
  }
}
