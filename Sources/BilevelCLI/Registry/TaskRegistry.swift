import Autodiff
import BilevelAD

/// The command line's view of `TaskCatalog`: the catalog's tasks, with a --data file read
/// and checked here so that its errors name the file.
enum TaskRegistry {
  /// The tasks that read --data.
  static var dataTasks: [String] { TaskCatalog.entries.filter { $0.bundledData != nil }.map(\.name) }
  /// The tasks that read --corruption.
  static var corruptionTasks: [String] { TaskCatalog.entries.filter(\.readsCorruption).map(\.name) }
  /// The tasks that read --dimension.
  static var dimensionTasks: [String] { TaskCatalog.entries.filter(\.readsDimension).map(\.name) }
  /// The task names.
  static var names: [String] { TaskCatalog.names }

  /// The catalog's instance of `name`, with a --data file in place of the bundled data.
  ///
  /// - Parameters:
  ///   - name: a catalog name (checked by the parser).
  ///   - options: the task's options; `data` is replaced by the file at `dataPath`.
  ///   - dataPath: a CSV file, or nil for the bundled data.
  ///   - maximumDataBytes: the largest file read.
  ///   - header: whether the file's first row is a header (nil: detect).
  static func instance(
    _ name: String, options: TaskOptions, dataPath: String? = nil,
    maximumDataBytes: Int = CSVReader.defaultMaximumBytes, header: Bool? = nil
  ) throws(CLIError) -> TaskInstance {
    let entry = TaskCatalog.entry(name)!
    var options = options
    if let dataPath, let bundled = entry.bundledData {
      options.data = try loadDataset(dataPath, bundled: bundled, maximumBytes: maximumDataBytes, header: header)
    }
    do {
      return try entry.make(options)
    } catch {
      let file = dataPath ?? entry.bundledData.map { "\($0.fileName).csv" } ?? name
      throw CLIError.invalidData(path: file, reason: error.description)
    }
  }

  static func loadDataset(
    _ path: String?, bundled: BundledDataset, maximumBytes: Int = CSVReader.defaultMaximumBytes, header: Bool? = nil
  ) throws(CLIError) -> Dataset {
    let data: Dataset
    do {
      if let path {
        data = try Dataset.load(csv: path, maximumBytes: maximumBytes, header: header)
      } else {
        return try Dataset.bundled(bundled)
      }
    } catch {
      if case .cannotOpen(let file, let reason) = error { throw CLIError.cannotOpen(path: file, reason: reason) }
      var reason = error.description
      // A first row with numeric and text cells is read as data; a header with numeric
      // names (pandas' '0,1,...,label') needs --header.
      if case .nonNumeric = error, error.line == 1, header == nil {
        reason += " (if line 1 is a header, pass --header)"
      }
      if case .tooLarge = error { reason += "; raise the limit with --data-limit" }
      throw CLIError.invalidData(path: path ?? "\(bundled.rawValue) (bundled)", reason: reason)
    }
    // Finite but huge features overflow when standardized and surface later as a NaN that
    // looks like a bad step size: name the column now.
    let (mean, deviation) = data.featureStatistics()
    let means = mean.scalars
    let deviations = deviation.scalars
    if let column = means.indices.first(where: { !means[$0].isFinite || !deviations[$0].isFinite }) {
      throw CLIError.invalidData(
        path: path ?? "",
        reason:
          "column \(column + 1): the values are too large to standardize (their mean or variance overflows a Double)")
    }
    return data
  }

  /// "test accuracy 0.949, test loss 0.1" for a baseline's values.
  static func format(_ baseline: Baseline) -> String {
    baseline.values.map { "\($0.name) \(TextTable.format($0.value, significantDigits: 4))" }.joined(separator: ", ")
  }
}
