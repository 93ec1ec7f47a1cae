// SPDX-License-Identifier: Apache-2.0
// Log: admin messages (start, stop, server state, errors) to stderr in HAProxy's style and to the global log
// targets at their syslog level; access-log lines to a proxy's targets; `-d` debug lines. Formatting happens
// only after the level check, into one reused LineBuffer.
import Glibc
import SluiceConfig
import SluiceCore

/// syslog severities (RFC 5424 numbering).
enum LogLevel: Int, Comparable {
    case emergency = 0
    case alert = 1
    case critical = 2
    case error = 3
    case warning = 4
    case notice = 5
    case info = 6
    case debug = 7

    static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }

    /// The tag HAProxy prints on stderr: `[NOTICE]   `, padded to 11 columns.
    var stderrTag: StaticString {
        switch self {
        case .emergency: return "[EMERG]    "
        case .alert: return "[ALERT]    "
        case .critical: return "[CRIT]     "
        case .error: return "[ERR]      "
        case .warning: return "[WARNING]  "
        case .notice: return "[NOTICE]   "
        case .info: return "[INFO]     "
        case .debug: return "[DEBUG]    "
        }
    }
}

/// One log destination opened from a `log` line: a file descriptor and how lines are framed for it.
final class LogSink {
    let target: LogTarget
    private let fd: FD
    private let ownsFD: Bool
    /// The sink whose socket this one shares (a reload keeps sockets to unchanged destinations open, which also
    /// keeps /dev/log reachable after a chroot).
    private let sharedWith: LogSink?

    /// A sink for `target` that reuses `existing`'s socket when it goes to the same destination.
    static func make(_ target: LogTarget, reusing existing: [LogSink]) -> LogSink? {
        if let same = existing.first(where: { $0.target.destination == target.destination }) {
            return LogSink(target: target, sharing: same)
        }
        return LogSink(target: target)
    }

    private init(target: LogTarget, sharing other: LogSink) {
        self.target = target
        fd = other.fd
        ownsFD = false
        sharedWith = other.sharedWith ?? other
    }

    /// Opens the destination: stdout/stderr are used as they are; a unix datagram path or a UDP address gets a
    /// connected datagram socket. Fails (returns nil) only if no socket can be created.
    init?(target: LogTarget) {
        self.target = target
        sharedWith = nil
        switch target.destination {
        case .stdout:
            fd = .standardOutput
            ownsFD = false
        case .stderr:
            fd = .standardError
            ownsFD = false
        case .unixDatagram(let path):
            guard let s = try? Sys.socket(domain: AF_UNIX, type: Sys.datagramSocket) else { return nil }
            // A missing /dev/log is not fatal: sends fail silently, as syslog(3) does.
            _ = Sys.connect(s, toUnixPath: path)
            fd = s
            ownsFD = true
        case .udp(let address):
            let endpoint = Runtime.endpoint(for: address)
            guard let s = try? Sys.socket(domain: endpoint.socketDomain, type: Sys.datagramSocket) else {
                return nil
            }
            _ = Sys.connect(s, to: endpoint)
            fd = s
            ownsFD = true
        }
    }

    deinit {
        if ownsFD { Sys.close(fd) }
    }

    /// True when lines at `level` pass this target's level filter.
    func accepts(_ level: LogLevel) -> Bool {
        level.rawValue <= target.maxLevel && level.rawValue >= target.minLevel
    }

    /// Sends one message (without newline) framed per the target's format. Never blocks: a full socket drops
    /// the line, as syslog over UDP would.
    func send(_ message: UnsafeRawBufferPointer, level: LogLevel, tag: StaticString, pid: Int32, into line: inout LineBuffer) {
        line.reset()
        let pri = target.facility * 8 + level.rawValue
        let (seconds, micros) = Sys.wallClock()
        switch target.format {
        case .raw:
            break
        case .rfc3164:
            line.append("<")
            line.append(pri)
            line.append(">")
            LogClock.appendRFC3164(seconds: seconds, into: &line)
            line.append(" ")
            line.append(tag)
            line.append("[")
            line.append(Int(pid))
            line.append("]: ")
        case .rfc5424:
            line.append("<")
            line.append(pri)
            line.append(">1 ")
            LogClock.appendRFC5424(seconds: seconds, micros: micros, into: &line)
            line.append(" ")
            line.append(LogClock.hostname)
            line.append(" ")
            line.append(tag)
            line.append(" ")
            line.append(Int(pid))
            line.append(" - - ")
        }
        // `len N` bounds the whole line, its final LF included, as HAProxy counts it.
        let room = max(0, target.maxLength - line.count - 1)
        line.append(bytes: UnsafeRawBufferPointer(rebasing: message.prefix(room)))
        line.append(byte: 10)
        switch target.destination {
        case .stdout, .stderr:
            line.withBytes { _ = Sys.write(fd, from: $0) }
        case .unixDatagram, .udp:
            line.withBytes { _ = Sys.send(fd, from: $0) }
        }
    }
}

/// Process-wide logging: admin events, access logs and debug traces. Owned by the Loop; loop-thread only.
final class Logger {
    let pid: Int32
    /// `-d`: trace every connection and event decision on stderr.
    var isDebugEnabled = false
    /// `-q`: no admin messages on stderr.
    var isQuiet = false
    /// Sinks of the `global` section's `log` lines.
    var globalSinks: [LogSink] = []
    private var line = LineBuffer(capacity: 2048)
    private var message = LineBuffer(capacity: 2048)

    init() {
        pid = Sys.getpid()
    }

    /// An admin event: stderr (HAProxy style `[NOTICE]   (pid) : text`) and the global log targets.
    /// `stderrLevel` overrides the tag on stderr where HAProxy's differs from its syslog level: server state
    /// changes print `[WARNING]` there whatever they send to syslog (alert for DOWN, notice for UP).
    func admin(_ level: LogLevel, _ text: String, stderrLevel: LogLevel? = nil) {
        let shown = stderrLevel ?? level
        let printed = !isQuiet || shown <= .warning
        if printed {
            message.reset()
            message.append(shown.stderrTag)
            message.append("(")
            message.append(Int(pid))
            message.append(") : ")
            message.append(text)
            message.append(byte: 10)
            message.withBytes { _ = Sys.write(.standardError, from: $0) }
        }
        guard !globalSinks.isEmpty else { return }
        message.reset()
        message.append(text)
        for sink in globalSinks where sink.accepts(level) {
            // stderr already got the line in HAProxy's admin format.
            if printed && sink.target.destination == .stderr { continue }
            message.withBytes { sink.send($0, level: level, tag: "sluice", pid: pid, into: &line) }
        }
    }

    /// Sends an already formatted access-log line to `sinks`.
    func access(_ text: UnsafeRawBufferPointer, level: LogLevel, sinks: [LogSink]) {
        for sink in sinks where sink.accepts(level) {
            sink.send(text, level: level, tag: "sluice", pid: pid, into: &line)
        }
    }

    /// A `-d` trace line: `event` then `name=value` pairs, e.g. `accept session=0 fd=5`. Formatted only when
    /// debugging; the arguments are static strings and integers, so a disabled call costs a branch.
    @inline(never)
    func debug(
        _ event: StaticString,
        _ k1: StaticString = "", _ v1: Int = 0,
        _ k2: StaticString = "", _ v2: Int = 0,
        _ k3: StaticString = "", _ v3: Int = 0
    ) {
        guard isDebugEnabled else { return }
        message.reset()
        message.append("[DEBUG]    (")
        message.append(Int(pid))
        message.append(") : ")
        message.append(event)
        if k1.utf8CodeUnitCount > 0 { appendPair(k1, v1) }
        if k2.utf8CodeUnitCount > 0 { appendPair(k2, v2) }
        if k3.utf8CodeUnitCount > 0 { appendPair(k3, v3) }
        message.append(byte: 10)
        message.withBytes { _ = Sys.write(.standardError, from: $0) }
    }

    private func appendPair(_ key: StaticString, _ value: Int) {
        message.append(" ")
        message.append(key)
        message.append("=")
        message.append(value)
    }

    /// A `-d` trace line with a prebuilt String (used off the hot path).
    func debug(message text: @autoclosure () -> String) {
        guard isDebugEnabled else { return }
        admin(.debug, text())
    }
}

/// Timestamps for log lines, from the wall clock (local time, like HAProxy).
enum LogClock {
    private static let months: [StaticString] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]

    static let hostname: String = {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else { return "-" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    static func localTime(_ seconds: Int) -> tm {
        var t = time_t(seconds)
        var out = tm()
        localtime_r(&t, &out)
        return out
    }

    /// `Nov 29 06:32:43` (day space-padded, as RFC 3164).
    static func appendRFC3164(seconds: Int, into line: inout LineBuffer) {
        let t = localTime(seconds)
        line.append(months[Int(t.tm_mon)])
        line.append(" ")
        if t.tm_mday < 10 { line.append(" ") }
        line.append(Int(t.tm_mday))
        line.append(" ")
        appendClock(t, into: &line)
    }

    /// `2026-11-29T06:32:43.123456+00:00`.
    static func appendRFC5424(seconds: Int, micros: Int, into line: inout LineBuffer) {
        let t = localTime(seconds)
        line.append(Int(t.tm_year) + 1900)
        line.append("-")
        line.append(Int(t.tm_mon) + 1, width: 2)
        line.append("-")
        line.append(Int(t.tm_mday), width: 2)
        line.append("T")
        appendClock(t, into: &line)
        line.append(".")
        line.append(micros, width: 6)
        let offset = t.tm_gmtoff / 60
        line.append(offset < 0 ? "-" : "+")
        line.append(abs(offset) / 60, width: 2)
        line.append(":")
        line.append(abs(offset) % 60, width: 2)
    }

    /// `2026-11-29 06:32:43` (local time), for status lines.
    static func isoTime(_ seconds: Int) -> String {
        let t = localTime(seconds)
        var line = LineBuffer(capacity: 32)
        line.append(Int(t.tm_year) + 1900)
        line.append("-")
        line.append(Int(t.tm_mon) + 1, width: 2)
        line.append("-")
        line.append(Int(t.tm_mday), width: 2)
        line.append(" ")
        appendClock(t, into: &line)
        return String(decoding: line.bytes, as: UTF8.self)
    }

    /// HAProxy's accept date: `29/Nov/2026:06:32:43.123`.
    static func appendAcceptDate(seconds: Int, millis: Int, into line: inout LineBuffer) {
        let t = localTime(seconds)
        line.append(Int(t.tm_mday), width: 2)
        line.append("/")
        line.append(months[Int(t.tm_mon)])
        line.append("/")
        line.append(Int(t.tm_year) + 1900)
        line.append(":")
        appendClock(t, into: &line)
        line.append(".")
        line.append(millis, width: 3)
    }

    private static func appendClock(_ t: tm, into line: inout LineBuffer) {
        line.append(Int(t.tm_hour), width: 2)
        line.append(":")
        line.append(Int(t.tm_min), width: 2)
        line.append(":")
        line.append(Int(t.tm_sec), width: 2)
    }
}
