import CSystemd
import SystemCalls
import SystemPackage
import UCWA

/// Records as journald entries through `sd_journal_sendv`: `MESSAGE`, `PRIORITY`,
/// `SYSLOG_IDENTIFIER`, `MESSAGE_ID` and the `UCWA_*` fields. Each field is its own iovec, so a
/// value can never forge another field (values are sanitised as well).
struct JournalSink: RecordSink {
    /// Fails when journald's socket is not there: `sd_journal_sendv` itself returns 0 even
    /// without journald, and records would vanish.
    init(socketPath: String = JournalSink.socketPath) throws(SinkError) {
        guard Self.socketAccepts(socketPath) else {
            throw SinkError.journal("no journald socket at \(socketPath) (is systemd-journald running?)")
        }
    }

    static let socketPath = "/run/systemd/journal/socket"

    mutating func append(_ record: Record) throws(SinkError) {
        try Self.send(record.journalFields)
    }

    mutating func flush() throws(SinkError) {
        // Each entry was handed to journald's socket when appended.
    }

    /// Sends one entry made of `FIELD=value` strings.
    static func send(_ fields: [String]) throws(SinkError) {
        var storage = fields.map { Array($0.utf8) }
        let result = storage.withUnsafeMutableBufferPointer { arrays -> Int32 in
            var vectors: [iovec] = []
            vectors.reserveCapacity(arrays.count)
            for index in arrays.indices {
                arrays[index].withUnsafeMutableBytes { bytes in
                    vectors.append(iovec(iov_base: bytes.baseAddress, iov_len: bytes.count))
                }
            }
            return vectors.withUnsafeBufferPointer { ucwa_sd_journal_sendv($0.baseAddress, Int32($0.count)) }
        }
        _ = storage
        if result < 0 {
            // sd_journal_sendv returns the error number, negated; errno is not involved.
            throw SinkError.journal("sd_journal_sendv failed: \(Errno(rawValue: -result))")
        }
    }

    /// Whether a datagram socket connects to `path`.
    static func socketAccepts(_ path: String) -> Bool {
        UnixSocketProbe.acceptsDatagrams(at: path)
    }
}
