// For Fuzz/run.sh RunCommandFuzz only: the `Bundle.module` accessor SwiftPM generates for
// BilevelAD's resources, pointing at the package's Resources folder.
import Foundation

extension Bundle {
  static let module: Bundle = Bundle(path: FileManager.default.currentDirectoryPath + "/Sources/BilevelAD") ?? .main
}
