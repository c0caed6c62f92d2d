import CSystemd
import Logging
import Synchronization
import SystemCalls
import UCWA

/// The log level every handler of ours reads, so that SIGHUP can change it.
package final class SharedLogLevel: Sendable {
    private let raw = Atomic<Int>(2)
    private static let levels = Logger.Level.allCases

    package init(_ level: Logger.Level) { set(level) }

    var level: Logger.Level { Self.levels[raw.load(ordering: .relaxed)] }
    package func set(_ level: Logger.Level) { raw.store(Self.levels.firstIndex(of: level) ?? 2, ordering: .relaxed) }
}

/// The daemon's own diagnostics: to journald (when `$JOURNAL_STREAM` shows stderr is the
/// journal) with MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and metadata as `UCWAD_*` fields (the
/// account as `UCWAD_ACCOUNT`), or to stderr one line each. Never on stdout; everything
/// sanitised, so no control sequence reaches a terminal or a journal field.
///
/// The prefix is not `UCWA_`: records own that one, so a filter on `UCWA_*` fields (a log
/// shipper's, or `journalctl UCWA_ACCOUNT=alice`) never mixes diagnostics with records.
package struct DiagnosticsLogHandler: LogHandler {
    package enum Destination: Sendable {
        case stderr
        case journal
    }

    package var metadata: Logger.Metadata = [:]
    let shared: SharedLogLevel
    let destination: Destination
    package var logLevel: Logger.Level {
        get { shared.level }
        set { shared.set(newValue) }
    }

    package init(level: SharedLogLevel, destination: Destination) {
        self.shared = level
        self.destination = destination
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 })
        switch destination {
        case .journal:
            var fields = [
                "MESSAGE=\(UserText.sanitize(event.message.description, limit: UserText.messageLimit))",
                "PRIORITY=\(Self.priority(event.level))",
                "SYSLOG_IDENTIFIER=ucwa-eventd",
            ]
            for (key, value) in all {
                let name =
                    Self.journalFieldPrefix
                    + key.uppercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? String($0) : "_" }.joined()
                fields.append("\(name)=\(UserText.sanitize("\(value)", limit: UserText.uriLimit))")
            }
            try? JournalSink.send(fields)
        case .stderr:
            var line = "ucwa-eventd: \(event.level): \(event.message)"
            for key in all.keys.sorted() {
                line += " \(key)=\(all[key]!)"
            }
            let bytes = Array((UserText.sanitize(line, limit: 8192) + "\n").utf8)
            // A diagnostic that cannot be written has nowhere else to go.
            _ = try? SystemFile.standardError.writeAll(bytes)
        }
    }

    /// The prefix of every diagnostic field but MESSAGE, PRIORITY and SYSLOG_IDENTIFIER.
    static let journalFieldPrefix = "UCWAD_"

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// Whether stderr is connected to the journal (systemd sets `$JOURNAL_STREAM` to its
    /// device and inode).
    package static func stderrIsJournal(environment: [String: String]) -> Bool {
        guard let value = environment["JOURNAL_STREAM"] else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        guard let stderr = try? SystemFile.standardError.identity() else { return false }
        return stderr.device == device && stderr.inode == inode
    }
}
