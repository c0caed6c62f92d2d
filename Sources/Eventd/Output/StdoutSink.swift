import StreamingJSON
import SystemCalls
import SystemPackage
import UCWA

/// JSON lines on a file descriptor (stdout): one object per line, written with one `write`
/// per record batch (or per 64 KiB, whichever comes first) and flushed before the batch is
/// acknowledged, by the system-call layer's write-all (a non-blocking stdout that is full is
/// waited for in poll(2)). A broken pipe is reported as `.brokenPipe` for an orderly stop
/// (SIGPIPE must be ignored by the process; the daemon does that at start).
struct StdoutSink: RecordSink {
    let output: SystemFile
    private var writer = JSONWriter(capacity: 64 * 1024)

    init(output: SystemFile = .standardOutput) {
        self.output = output
    }

    /// Records on the descriptor `descriptor` (1: stdout; the tests give a pipe or a file).
    init(descriptor: Int32) {
        let name = descriptor == 1 ? "stdout" : "file descriptor \(descriptor)"
        self.init(output: SystemFile(FileDescriptor(rawValue: descriptor), name: name))
    }

    mutating func append(_ record: Record) throws(SinkError) {
        record.writeJSONLine(into: &writer)
        if writer.bytes.count >= 64 * 1024 { try flush() }
    }

    mutating func flush() throws(SinkError) {
        guard !writer.bytes.isEmpty else { return }
        do {
            try output.writeAll(writer.bytes)
        } catch  where error.errno == .brokenPipe {
            throw SinkError.brokenPipe
        } catch {
            throw SinkError.writeFailed(error.errno.description)
        }
        writer.bytes.removeAll(keepingCapacity: true)
    }
}
