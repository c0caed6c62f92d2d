import CSystemd
import UCWA

#if canImport(Glibc)
import Glibc
#endif

/// Records as journald entries through `sd_journal_sendv`: `MESSAGE`, `PRIORITY`,
/// `SYSLOG_IDENTIFIER`, `MESSAGE_ID` and the `UCWA_*` fields. Each field is its own iovec, so a
/// value can never forge another field (values are sanitised as well).
package struct JournalSink: RecordSink {
    /// Fails when journald's socket is not there: `sd_journal_sendv` itself returns 0 even
    /// without journald, and records would vanish.
    package init(socketPath: String = JournalSink.socketPath) throws(SinkError) {
        guard Self.socketAccepts(socketPath) else {
            throw SinkError.journal("no journald socket at \(socketPath) (is systemd-journald running?)")
        }
    }

    package static let socketPath = "/run/systemd/journal/socket"

    package mutating func append(_ record: Record) throws(SinkError) {
        try Self.send(record.journalFields)
    }

    package mutating func flush() throws(SinkError) {
        // Each entry was handed to journald's socket when appended.
    }

    /// Sends one entry made of `FIELD=value` strings.
    package static func send(_ fields: [String]) throws(SinkError) {
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
            throw SinkError.journal("sd_journal_sendv failed: \(String(cString: strerror(-result)))")
        }
    }

    /// Whether a datagram socket connects to `path`.
    static func socketAccepts(_ path: String) -> Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }
}
