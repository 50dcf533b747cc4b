/// "Did you mean …" for a name that is not one of the known ones, by edit distance.
public enum Suggestion {
    /// The known names closest to `name` (at most 2 edits, or 3 for long names), best first.
    public static func closest(to name: String, among known: [String]) -> [String] {
        let target = Array(name.lowercased().unicodeScalars)
        let limit = target.count > 8 ? 3 : 2
        return known.map { ($0, distance(target, Array($0.lowercased().unicodeScalars))) }
            .filter { $0.1 <= limit && $0.1 < max(target.count, 1) }
            .sorted { ($0.1, $0.0) < ($1.1, $1.0) }
            .map(\.0)
    }

    /// `" (did you mean 'x'?)"`, or an empty string when nothing is close.
    public static func didYouMean(_ name: String, among known: [String]) -> String {
        guard let best = closest(to: name, among: known).first else { return "" }
        return " (did you mean '\(best)'?)"
    }

    /// Optimal string alignment distance (Levenshtein with adjacent transpositions).
    package static func distance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
