/// The skipped examples in a sentence: counts per reason, one example each.
public enum SkippedSummary {
    public static func describe(_ skipped: [SkippedExample]) -> String {
        guard !skipped.isEmpty else { return "" }
        var groups: [(reason: SkippedExample.Reason, count: Int, first: SkippedExample)] = []
        for item in skipped {
            if let index = groups.firstIndex(where: { $0.reason == item.reason }) {
                groups[index].count += 1
            } else {
                groups.append((item.reason, 1, item))
            }
        }
        let parts = groups.map { "\($0.count) \($0.reason.rawValue) (e.g. \($0.first.origin): \($0.first.detail))" }
        return "; skipped: " + parts.joined(separator: "; ")
    }
}
