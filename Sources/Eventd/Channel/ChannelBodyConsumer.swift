import CurlHTTP
import StreamingJSON
import UCWA

/// What the decoder found in an events body, in document order.
enum ChannelItem: Sendable {
    /// The events decoded from one chunk of the body, in order.
    case events([UCWAEvent])
    case link(BatchLinkKind, String)
    case baseURI(String)
}

/// Forwards the decoder's findings from the HTTP thread to the channel's task: events are
/// gathered per chunk and handed over together when the chunk is decoded (or before a link
/// that follows them), one hand-over to the channel's task per chunk instead of per event.
struct ChannelForwarder: EventBatchConsumer {
    let continuation: AsyncStream<ChannelItem>.Continuation
    let flow: TransferFlow
    private var pending: [UCWAEvent] = []

    init(continuation: AsyncStream<ChannelItem>.Continuation, flow: TransferFlow) {
        self.continuation = continuation
        self.flow = flow
    }

    mutating func event(_ event: consuming UCWAEvent) {
        flow.produced()
        pending.append(event)
    }
    mutating func batchLink(_ kind: BatchLinkKind, href: String) {
        flush()
        continuation.yield(.link(kind, href))
    }
    mutating func baseURI(_ uri: String) {
        flush()
        continuation.yield(.baseURI(uri))
    }

    /// Hands over the events gathered so far.
    mutating func flush() {
        guard !pending.isEmpty else { return }
        continuation.yield(.events(pending))
        pending.removeAll(keepingCapacity: true)
    }
}

/// Decodes an events body chunk by chunk as libcurl delivers it, on the HTTP thread: each event
/// leaves the moment its object closes, so memory stays flat whatever the batch size.
struct ChannelBodyConsumer: HTTPBodyConsumer {
    var decoder: EventBatchDecoder<ChannelForwarder>
    /// When a batch failed before, its bytes are also written here (for the quarantine).
    let capture: QuarantineCapture?

    init(
        continuation: AsyncStream<ChannelItem>.Continuation,
        flow: TransferFlow,
        limits: JSONLimits,
        capture: QuarantineCapture? = nil
    ) {
        decoder = EventBatchDecoder(consumer: ChannelForwarder(continuation: continuation, flow: flow), limits: limits)
        self.capture = capture
    }

    mutating func consume(_ bytes: UnsafeRawBufferPointer) throws {
        capture?.append(bytes)
        // Also when the chunk fails to decode: the events before the error still go.
        defer { decoder.consumer.flush() }
        try decoder.feed(bytes)
    }

    /// Ends the body; the events its last bytes completed are handed over.
    mutating func finish() throws {
        defer { decoder.consumer.flush() }
        try decoder.finish()
    }
}
