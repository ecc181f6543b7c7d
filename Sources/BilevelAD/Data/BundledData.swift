import Autodiff
import Foundation

/// The real data sets shipped inside the package (see `Resources/README.md` for their
/// provenance and licences).
public enum BundledDataset: String, CaseIterable, Sendable {
  /// UCI optical digits: 1797 × 64 pixel intensities, 10 classes.
  case digits
  /// UCI breast cancer Wisconsin (diagnostic): 569 × 30 features, 2 classes.
  case breastCancer = "breast-cancer"

  /// The file name inside the package's resources.
  public var fileName: String {
    switch self {
    case .digits: return "digits"
    case .breastCancer: return "breast_cancer"
    }
  }

  /// The number of classes.
  public var classCount: Int { self == .digits ? 10 : 2 }
}

extension Dataset {
  /// A bundled data set, read from the package's resources.
  ///
  /// - Throws: `CSVError` if the resource is missing or does not parse (a broken install).
  public static func bundled(_ dataset: BundledDataset) throws(CSVError) -> Dataset {
    guard
      let url = Bundle.module.url(forResource: dataset.fileName, withExtension: "csv", subdirectory: "Resources")
        ?? Bundle.module.url(forResource: dataset.fileName, withExtension: "csv")
    else {
      throw CSVError.cannotOpen(
        path: "\(dataset.fileName).csv (bundled resource)", reason: "not found in the package's resources")
    }
    if dataset == .breastCancer {
      // scikit-learn's file starts with a summary line "569,30,malignant,benign" that is
      // not a header of the 31 columns: skip it.
      guard let text = try? String(contentsOf: url, encoding: .utf8), let newline = text.firstIndex(of: "\n") else {
        throw CSVError.cannotOpen(path: url.path, reason: "unreadable bundled resource")
      }
      return try Dataset.dataset(
        from: CSVReader.parse(String(text[text.index(after: newline)...])), classes: dataset.classCount)
    }
    return try load(csv: url.path, classes: dataset.classCount)
  }

  /// A data set from a CSV file of numeric columns with the integer class label last and
  /// an optional header.
  ///
  /// - Parameters:
  ///   - path: the file.
  ///   - classes: the number of classes; inferred as 1 + the largest label when nil (labels
  ///     must then be integers below 1000).
  ///   - maximumBytes: the largest file accepted (256 MiB by default).
  ///   - header: whether the first row is a header; nil detects it (a header when every
  ///     cell of the first row is text).
  /// - Throws: `CSVError` with the line and column of the first problem, including a
  ///   label that is not an integer in 0..<classes, or fewer than two classes present.
  public static func load(
    csv path: String, classes: Int? = nil, maximumBytes: Int = CSVReader.defaultMaximumBytes, header: Bool? = nil
  ) throws(CSVError) -> Dataset {
    try dataset(from: CSVReader.read(contentsOf: path, maximumBytes: maximumBytes, header: header), classes: classes)
  }

  /// A data set from a parsed table whose last column holds integer class labels.
  static func dataset(from table: NumericTable, classes: Int?) throws(CSVError) -> Dataset {
    let classCount: Int
    if let classes {
      classCount = classes
    } else {
      guard table.columns >= 2 else {
        throw CSVError.missingFeatures(line: table.rows > 0 ? table.line(ofRow: 0) : 1, columns: table.columns)
      }
      var largest = 0.0
      for row in 0..<table.rows {
        let label = table[row, table.columns - 1]
        guard label >= 0, label == label.rounded(), label < 1000 else {
          throw CSVError.invalidLabel(line: table.line(ofRow: row), column: table.columns, value: label, classes: 1000)
        }
        largest = Swift.max(largest, label)
      }
      classCount = Int(largest) + 1
      let present = Set((0..<table.rows).map { Int(table[$0, table.columns - 1]) }).count
      if present >= 2 && present < classCount {
        // Labels 0 and 20 would make a 21-class model out of two classes: report the
        // largest label where it is.
        let row = (0..<table.rows).first { table[$0, table.columns - 1] == largest } ?? 0
        throw CSVError.labelGap(
          line: table.line(ofRow: row), column: table.columns, label: Int(largest), distinct: present)
      }
    }
    let labelled = try table.splitFeaturesAndLabels(classes: classCount)
    if Set(labelled.labels).count < 2 {
      throw CSVError.singleClass(column: table.columns, label: labelled.labels.first ?? 0)
    }
    let features = Tensor(
      shape: [labelled.features.rows, labelled.features.columns], scalars: labelled.features.values)
    return Dataset(features: features, labels: labelled.labels, classCount: classCount)
  }
}
