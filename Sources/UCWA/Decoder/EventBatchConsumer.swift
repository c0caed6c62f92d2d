/// Receives what the event-batch decoder finds, the moment it finds it.
///
/// `event` is called as each event object closes, in document order. `batchLink` and
/// `baseURI` are called when the batch's `_links.self`/`next`/`resume`/`resync` or top-level
/// `baseuri` appear, which may be before or after the events.
public protocol EventBatchConsumer {
    /// Takes the event: a consumer that keeps it (in an array, a channel) keeps it without a
    /// copy, which for an event is a dozen reference-count operations.
    mutating func event(_ event: consuming UCWAEvent)
    mutating func batchLink(_ kind: BatchLinkKind, href: String)
    mutating func baseURI(_ uri: String)
}

/// The links of a batch that steer the event channel (protocol notes §2.4).
public enum BatchLinkKind: String, Sendable, Equatable, Hashable, CaseIterable {
    /// The URL this batch answered.
    case `self`
    /// The URL to request next; requesting it acknowledges this batch.
    case next
    /// Like `next`, after the server tore down transient state; re-send query parameters.
    case resume
    /// The client lost its place; following it returns the first unacknowledged batch.
    case resync
}

/// A consumer that keeps everything: handy for tests, `replay` and small batches.
public struct EventBatchCollector: EventBatchConsumer, Sendable {
    public var events: [UCWAEvent] = []
    public var links = BatchLinks()
    var baseURI: String?

    public init() {}

    public mutating func event(_ event: consuming UCWAEvent) { events.append(event) }
    public mutating func batchLink(_ kind: BatchLinkKind, href: String) { links[kind] = href }
    public mutating func baseURI(_ uri: String) { baseURI = uri }
}
