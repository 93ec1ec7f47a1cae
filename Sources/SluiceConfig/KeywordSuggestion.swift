// SPDX-License-Identifier: Apache-2.0
// KeywordSuggestion: "did you mean '...'?" for misspelled keywords, by optimal-string-alignment edit distance
// (Levenshtein plus adjacent transpositions, so `wieght` -> `weight` is one edit). Bytes only, no allocation
// beyond two rows.

/// Finds the closest keyword to a misspelled one.
enum KeywordSuggestion {
    /// The candidate closest to `word`, if close enough: at most 1 edit for words up to 4 bytes, 2 up to 8, else 3.
    /// Ties go to the earlier candidate, so callers list what sluice supports first.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let target = Array(word.utf8)
        let limit = target.count <= 4 ? 1 : (target.count <= 8 ? 2 : 3)
        var best: (name: String, distance: Int)?
        for candidate in candidates where candidate != word {
            // The distance is at least the length difference: skip without computing it.
            guard abs(candidate.utf8.count - target.count) <= limit else { continue }
            let distance = self.distance(target, Array(candidate.utf8))
            if distance <= limit && (best == nil || distance < best!.distance) {
                best = (candidate, distance)
            }
        }
        return best?.name
    }

    /// " did you mean 'x'?" suffix (with its leading "; "), or "" when nothing is close.
    static func suffix(for word: String, among candidates: [String]) -> String {
        guard let match = closest(to: word, among: candidates) else { return "" }
        return "; did you mean '\(match)'?"
    }

    /// Optimal string alignment distance between two byte strings.
    static func distance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previousPrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    value = min(value, previousPrevious[j - 2] + 1)
                }
                current[j] = value
            }
            (previousPrevious, previous, current) = (previous, current, previousPrevious)
        }
        return previous[b.count]
    }
}
