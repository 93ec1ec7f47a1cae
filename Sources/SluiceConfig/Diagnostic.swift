// SPDX-License-Identifier: Apache-2.0
// Diagnostics: the alerts and warnings a load produces, their exact rendering (`[ALERT] parsing [FILE:LINE] :
// message`), and the collector the parser writes them to. Messages are single lines and stable: tests compare them.

/// One alert or warning of a configuration load.
public struct Diagnostic: Sendable, Equatable {
    /// An alert makes the configuration unusable; a warning does not.
    public enum Severity: Sendable {
        case alert
        case warning
    }

    public var severity: Severity
    /// nil for errors not tied to a line (e.g. a file that cannot be opened).
    public var location: SourceLocation?
    /// One line, no trailing newline, no trailing period.
    public var message: String

    /// Builds a diagnostic; `message` must be one line.
    public init(severity: Severity, location: SourceLocation?, message: String) {
        self.severity = severity
        self.location = location
        self.message = message
    }

    /// "[ALERT] parsing [FILE:LINE] : message" / "[WARNING] parsing [FILE:LINE] : message";
    /// without location: "[ALERT] message".
    public var rendered: String {
        let tag = severity == .alert ? "[ALERT]" : "[WARNING]"
        if let location {
            return "\(tag) parsing [\(location.file):\(location.line)] : \(message)"
        }
        return "\(tag) \(message)"
    }
}

extension Array where Element == Diagnostic {
    /// This file-ordered list with `later` (found after the load, e.g. by reading certificates) placed among
    /// them: each before the first diagnostic of its file with a higher line, else after its file's last one,
    /// else at the end.
    public func merging(_ later: [Diagnostic]) -> [Diagnostic] {
        var result = self
        for d in later {
            guard let at = d.location else {
                result.append(d)
                continue
            }
            let sameFile = result.indices.filter { result[$0].location?.file == at.file }
            if let next = sameFile.first(where: { result[$0].location!.line > at.line }) {
                result.insert(d, at: next)
            } else if let last = sameFile.last {
                result.insert(d, at: last + 1)
            } else {
                result.append(d)
            }
        }
        return result
    }
}

/// Collects diagnostics during a load and returns them in file order (files in load order, then lines), so that a
/// second-pass error lands next to the first-pass ones of the same file. Not thread-safe; one per load.
struct DiagnosticSink {
    private struct Entry {
        var diagnostic: Diagnostic
        var fileOrdinal: Int
        var line: Int
        var sequence: Int
    }

    private var entries: [Entry] = []
    /// Load order of each file name seen, for sorting.
    private var fileOrdinals: [String: Int] = [:]
    /// The ordinal used for diagnostics without a location: the file being read when they were raised.
    var currentFileOrdinal = 0

    /// True once any alert was recorded.
    private(set) var hasAlert = false

    /// Registers `file` as the next file in load order (idempotent) and makes it the current one.
    mutating func beginFile(_ file: String) {
        if let ordinal = fileOrdinals[file] {
            currentFileOrdinal = ordinal
        } else {
            currentFileOrdinal = fileOrdinals.count
            fileOrdinals[file] = currentFileOrdinal
        }
    }

    /// Records an alert at `location` (nil: not tied to a line).
    mutating func alert(_ message: String, at location: SourceLocation?) {
        append(Diagnostic(severity: .alert, location: location, message: message))
    }

    /// Records a warning at `location` (nil: not tied to a line).
    mutating func warning(_ message: String, at location: SourceLocation?) {
        append(Diagnostic(severity: .warning, location: location, message: message))
    }

    /// Records `diagnostic` as is.
    mutating func append(_ diagnostic: Diagnostic) {
        if diagnostic.severity == .alert { hasAlert = true }
        let ordinal: Int
        let line: Int
        if let location = diagnostic.location {
            ordinal = fileOrdinals[location.file] ?? currentFileOrdinal
            line = location.line
        } else {
            ordinal = currentFileOrdinal
            line = 0
        }
        entries.append(Entry(diagnostic: diagnostic, fileOrdinal: ordinal, line: line, sequence: entries.count))
    }

    /// Every diagnostic, sorted by file (load order), then line, then the order they were raised in.
    var sorted: [Diagnostic] {
        entries.sorted {
            ($0.fileOrdinal, $0.line, $0.sequence) < ($1.fileOrdinal, $1.line, $1.sequence)
        }.map(\.diagnostic)
    }
}
