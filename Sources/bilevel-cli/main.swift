import BilevelCLI
import Foundation

exit(BilevelCommandLine.run(Array(CommandLine.arguments.dropFirst())))
