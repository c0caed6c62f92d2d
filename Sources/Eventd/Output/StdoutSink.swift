import StreamingJSON
import UCWA

#if canImport(Glibc)
import Glibc
#endif

/// JSON lines on a file descriptor (stdout): one object per line, written with one `write`
/// per record batch (or per 64 KiB, whichever comes first) and flushed before the batch is
/// acknowledged. A broken pipe is reported as `.brokenPipe` for an orderly stop (SIGPIPE must
/// be ignored by the process; the daemon does that at start).
package struct StdoutSink: RecordSink {
    package let descriptor: Int32
    private var writer = JSONWriter(capacity: 64 * 1024)

    package init(descriptor: Int32 = STDOUT_FILENO) {
        self.descriptor = descriptor
    }

    package mutating func append(_ record: Record) throws(SinkError) {
        record.writeJSONLine(into: &writer)
        if writer.bytes.count >= 64 * 1024 { try flush() }
    }

    package mutating func flush() throws(SinkError) {
        guard !writer.bytes.isEmpty else { return }
        var offset = 0
        let total = writer.bytes.count
        while offset < total {
            let count = writer.bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, total - offset) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                if errno == EPIPE { throw SinkError.brokenPipe }
                throw SinkError.writeFailed(String(cString: strerror(errno)))
            }
            offset += count
        }
        writer.bytes.removeAll(keepingCapacity: true)
    }
}
