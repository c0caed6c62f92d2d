import CurlHTTP
#if canImport(Glibc)
import Glibc
#endif
import StreamingJSON
import UCWA

/// What the decoder found in an events body, in document order.
enum ChannelItem: Sendable {
    case event(UCWAEvent)
    /// The heartbeat timer fired (consumed in order with the events, on the channel's loop).
    case tick
    case link(BatchLinkKind, String)
    case baseURI(String)
}

/// Forwards the decoder's findings from the HTTP thread to the channel's task.
struct ChannelForwarder: EventBatchConsumer {
    let continuation: AsyncStream<ChannelItem>.Continuation
    let flow: TransferFlow

    func event(_ event: UCWAEvent) {
        flow.produced()
        continuation.yield(.event(event))
    }
    func batchLink(_ kind: BatchLinkKind, href: String) { continuation.yield(.link(kind, href)) }
    func baseURI(_ uri: String) { continuation.yield(.baseURI(uri)) }
}

/// Decodes an events body chunk by chunk as libcurl delivers it, on the HTTP thread: each event
/// leaves the moment its object closes, so memory stays flat whatever the batch size.
struct ChannelBodyConsumer: HTTPBodyConsumer {
    var decoder: EventBatchDecoder<ChannelForwarder>
    /// When a batch failed before, its bytes are also written here (for the quarantine).
    let capture: Int32?

    init(continuation: AsyncStream<ChannelItem>.Continuation, flow: TransferFlow, limits: JSONLimits, capture: Int32? = nil) {
        decoder = EventBatchDecoder(consumer: ChannelForwarder(continuation: continuation, flow: flow), limits: limits)
        self.capture = capture
    }

    mutating func consume(_ bytes: UnsafeRawBufferPointer) throws {
        if let capture, let base = bytes.baseAddress {
            var offset = 0
            while offset < bytes.count {
                let written = write(capture, base + offset, bytes.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
        try decoder.feed(bytes)
    }
}
