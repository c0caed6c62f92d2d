// The work both decoder benchmarks measure, in one place: a consumer that touches every field
// of the event model (as a consumer writing records would), and the decode loop itself.
import StreamingJSON
import UCWA

#if canImport(Glibc)
import Glibc
#endif

/// Reads every field of the event model; returns a checksum so nothing is optimised away.
@inline(__always)
package func touchEveryField(_ event: UCWAEvent) -> Int {
    var sum = event.link.href.utf8Count &+ event.link.rel.utf8Count &+ (event.link.title?.utf8Count ?? 0)
    sum &+= event.sender.rel.utf8Count &+ event.sender.href.utf8Count
    if let link = event.in { sum &+= link.href.utf8Count &+ link.rel.utf8Count }
    sum &+= event.status?.utf8Count ?? 0
    if let reason = event.reason {
        sum &+= reason.code.utf8Count &+ (reason.subcode?.utf8Count ?? 0) &+ (reason.message?.utf8Count ?? 0)
    }
    if case .invitation(let invitation) = event.embedded {
        sum &+= (invitation.state?.utf8Count ?? 0) &+ (invitation.direction?.utf8Count ?? 0)
        sum &+= (invitation.importance?.utf8Count ?? 0) &+ (invitation.operationId?.utf8Count ?? 0)
        sum &+= (invitation.subject?.utf8Count ?? 0) &+ (invitation.threadId?.utf8Count ?? 0)
        sum &+= (invitation.to?.utf8Count ?? 0) &+ (invitation.conversationHref?.utf8Count ?? 0)
        sum &+= (invitation.inviterName?.utf8Count ?? 0) &+ (invitation.fromURI?.utf8Count ?? 0)
    }
    return sum
}

/// The cross-driver checksum of one event, computed the same way by every decoder `make bench`
/// compares (ours, JSONSerialization, yajl, simdjson): UTF-8 bytes of the sender href, link
/// href, status, reason code and embedded invitation subject, all unescaped. Equal sums mean
/// the decoders saw the same events with the same text.
@inline(__always)
package func crossCheck(_ event: UCWAEvent) -> Int {
    var sum = event.sender.href.utf8Count &+ event.link.href.utf8Count
    sum &+= (event.status?.utf8Count ?? 0) &+ (event.reason?.code.utf8Count ?? 0)
    return sum &+ (event.invitation?.subject?.utf8Count ?? 0)
}

/// Counts events and touches every field of each.
package struct CountingConsumer: EventBatchConsumer {
    package var events = 0
    package var checksum = 0
    /// The sum of `crossCheck` over all events.
    package var check = 0
    package init() {}
    package mutating func event(_ event: UCWAEvent) {
        events &+= 1
        checksum &+= touchEveryField(event)
        check &+= crossCheck(event)
    }
    package mutating func batchLink(_ kind: BatchLinkKind, href: String) { checksum &+= href.utf8.count }
    package mutating func baseURI(_ uri: String) {}
}

/// Decodes every batch, fed in `chunk`-byte pieces, with one decoder reset between bodies as the
/// daemon does; returns the consumer.
@inline(never)
package func decodeAll(_ batches: [[UInt8]], chunk: Int) -> CountingConsumer {
    var decoder = EventBatchDecoder(consumer: CountingConsumer())
    for batch in batches {
        batch.withUnsafeBytes { decodeBody($0, chunk: chunk, with: &decoder) }
    }
    return decoder.consumer
}

/// Decodes the batches at `batches` in `bytes` (one buffer, as read from the corpus file),
/// like `decodeAll(_:chunk:)`.
@inline(never)
package func decodeAll(_ bytes: [UInt8], batches: [Range<Int>], chunk: Int) -> CountingConsumer {
    var decoder = EventBatchDecoder(consumer: CountingConsumer())
    bytes.withUnsafeBytes { raw in
        for batch in batches {
            decodeBody(UnsafeRawBufferPointer(rebasing: raw[batch]), chunk: chunk, with: &decoder)
        }
    }
    return decoder.consumer
}

/// One body: reset, fed in `chunk`-byte pieces, finished.
@inline(__always)
func decodeBody(_ body: UnsafeRawBufferPointer, chunk: Int, with decoder: inout EventBatchDecoder<CountingConsumer>) {
    decoder.reset()
    feedInChunks(body, chunk: chunk) { try! decoder.feed($0) }
    try! decoder.finish()
}

/// Decodes one batch read from `descriptor` in 64 KiB reads, each fed in `chunk`-byte pieces,
/// with no document limit; returns the bytes read and the consumer, or the errno of a failed
/// read. A function of its own (not top-level code) so that the decoder is a local the
/// optimiser can keep in registers and the feed inlines, as in `decodeAll`.
@inline(never)
package func decodeStream(
    descriptor: Int32,
    chunk: Int
) throws(StreamReadError) -> (bytes: Int, consumer: CountingConsumer) {
    var decoder = EventBatchDecoder(consumer: CountingConsumer(), limits: JSONLimits(maxDocumentBytes: nil))
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
    defer { buffer.deallocate() }
    var bytes = 0
    while true {
        let count = read(descriptor, buffer.baseAddress, buffer.count)
        guard count >= 0 else { throw StreamReadError(code: errno) }
        if count == 0 { break }
        bytes += count
        feedInChunks(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), chunk: chunk) { try! decoder.feed($0) }
    }
    try! decoder.finish()
    return (bytes, decoder.consumer)
}

/// A `read` failed while streaming a batch: its errno.
package struct StreamReadError: Error {
    package var code: Int32
}

/// Calls `feed` with `bytes` in pieces of `chunk` bytes (the last one shorter).
@inline(__always)
package func feedInChunks(_ bytes: [UInt8], chunk: Int, _ feed: (UnsafeRawBufferPointer) -> Void) {
    bytes.withUnsafeBytes { feedInChunks($0, chunk: chunk, feed) }
}

/// Calls `feed` with `raw` in pieces of `chunk` bytes (the last one shorter), in plain pointer
/// arithmetic as the C drivers' loops: the harness should cost nothing.
@inline(__always)
package func feedInChunks(_ raw: UnsafeRawBufferPointer, chunk: Int, _ feed: (UnsafeRawBufferPointer) -> Void) {
    guard let base = raw.baseAddress else { return }
    var offset = 0
    while offset < raw.count {
        let length = min(chunk, raw.count &- offset)
        feed(UnsafeRawBufferPointer(start: base + offset, count: length))
        offset &+= length
    }
}

/// Megabytes per second for `bytes` processed while `work` ran.
package func megabytesPerSecond(_ bytes: Int, _ work: () -> Void) -> Int {
    let elapsed = ContinuousClock().measure(work)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return Int(Double(bytes) / 1e6 / seconds)
}
