/// "Did you mean …?" for a misspelt name: request fields, configuration keys.
public enum ClosestName {
    /// The candidate nearest to `name` by edit distance (ties: the first in
    /// sorted order), if it is close enough to be a typo: at most a third of
    /// the name's characters differ (at least one may).
    public static func suggestion(for name: String, among candidates: some Sequence<String>) -> String? {
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(name, candidate)
            if let current = best, current.distance < distance || (current.distance == distance && current.name < candidate) { continue }
            best = (candidate, distance)
        }
        guard let best, best.distance <= max(1, name.count / 3) else { return nil }
        return best.name
    }

    /// Levenshtein distance over Unicode scalars.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
