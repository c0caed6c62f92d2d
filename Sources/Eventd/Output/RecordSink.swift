import UCWA

/// Where records go. `append` may buffer; `flush` returns only when every appended record has
/// been handed to the sink's destination (the daemon acknowledges a batch after that).
protocol RecordSink {
    mutating func append(_ record: Record) throws(SinkError)
    mutating func flush() throws(SinkError)
}

enum SinkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reader of stdout went away: an orderly stop, not a failure.
    case brokenPipe
    /// Writing failed for another reason (errno text).
    case writeFailed(String)
    /// journald is not there (no socket) or refused the entry.
    case journal(String)

    var description: String {
        switch self {
        case .brokenPipe: "stdout: the reader went away (broken pipe)"
        case .writeFailed(let text): "stdout: write failed: \(text)"
        case .journal(let text): "journald: \(text)"
        }
    }
}
