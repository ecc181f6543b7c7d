/// The Levenshtein distance between two strings: the fewest single-character insertions,
/// deletions and substitutions that turn one into the other.
///
/// Symmetric, zero only for equal strings, and it satisfies the triangle inequality.
///
/// - Parameters:
///   - a: A string.
///   - b: Another string.
/// - Returns: The edit distance, counted in characters.
/// - Complexity: O(*m* × *n*) time and O(*n*) space for lengths *m* and *n*.
func editDistance(_ a: String, _ b: String) -> Int {
  let a = Array(a)
  let b = Array(b)
  if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
  var previous = Array(0...b.count)
  var current = [Int](repeating: 0, count: b.count + 1)
  for i in 1...a.count {
    current[0] = i
    for j in 1...b.count {
      let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
      current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
    }
    swap(&previous, &current)
  }
  return previous[b.count]
}

/// The candidate a mistyped word most likely meant: within edit distance 2, or starting
/// with the word (leading dashes aside); the closest wins, then the first listed.
///
/// - Parameters:
///   - word: What the user typed (`--itrations`).
///   - candidates: The valid spellings (`--iterations`).
/// - Returns: The suggestion, or `nil` when nothing is close.
func closestMatch(to word: String, among candidates: [String]) -> String? {
  let stem = word.drop { $0 == "-" }
  var best: (candidate: String, distance: Int)?
  for candidate in candidates {
    let lengthGap = abs(candidate.count - word.count)
    let distance = lengthGap <= 2 ? editDistance(word, candidate) : lengthGap
    let isPrefix = !stem.isEmpty && candidate.drop { $0 == "-" }.hasPrefix(stem)
    guard distance <= 2 || isPrefix else { continue }
    if let best, best.distance <= distance { continue }
    best = (candidate, distance)
  }
  return best?.candidate
}
