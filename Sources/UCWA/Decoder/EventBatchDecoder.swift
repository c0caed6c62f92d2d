import StreamingJSON

/// Decodes an event-channel response body (protocol notes §2.2) into `UCWAEvent`s while its
/// bytes arrive, handing each event to the consumer as soon as its object closes.
///
/// Feed it the body in chunks of any size, then call `finish()`. Memory stays flat whatever the
/// batch size: only the event in progress is held (plus, rarely, the events of a sender block
/// whose `rel`/`href` come after its `events` — those wait for the block to close so that every
/// event carries its sender).
///
/// Shape rules: the body is an object; `sender` is an array of objects, each `events` an array
/// of objects, `link`/`in`/`reason`/`_links` objects; known string fields are strings or
/// `null` (absent). Anything else is refused with a `JSONError` at the offending token.
/// Unknown keys and values, and embedded resources other than invitations, are skipped without
/// allocation. An empty batch (`"sender": []` or
/// no `sender` at all) is valid.
public struct EventBatchDecoder<Consumer: EventBatchConsumer> {
    @usableFromInline var tokenizer: JSONTokenizer<EventBatchHandler<Consumer>>

    @inlinable
    public init(consumer: Consumer, limits: JSONLimits = .eventChannel) {
        tokenizer = JSONTokenizer(handler: EventBatchHandler(consumer: consumer), limits: limits)
    }

    /// The consumer, with everything it has received so far.
    @inlinable
    public var consumer: Consumer {
        get { tokenizer.handler.consumer }
        _modify { yield &tokenizer.handler.consumer }
    }

    /// Prepares for the next body (the next batch on the channel), keeping the consumer, the
    /// interned vocabulary and all allocated buffers.
    @inlinable
    public mutating func reset() {
        tokenizer.reset()
        tokenizer.handler.parser.reset()
    }

    /// Events decoded so far.
    @inlinable
    public var eventCount: Int { tokenizer.handler.parser.ordinal }

    /// Whether the body so far had a `sender` array (a body with neither one nor a `next`,
    /// `resume` or `resync` link is valid JSON but no event batch).
    public var sawSenderArray: Bool { tokenizer.handler.parser.sawSenders }

    /// Bytes fed so far.
    public var bytesConsumed: Int { tokenizer.bytesConsumed }

    @inlinable
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(JSONError) {
        try tokenizer.feed(bytes)
    }

    mutating func feed(_ bytes: some Collection<UInt8>) throws(JSONError) {
        try tokenizer.feed(bytes)
    }

    /// Declares the end of the body; throws if the document is incomplete.
    @inlinable
    public mutating func finish() throws(JSONError) {
        try tokenizer.finish()
    }
}

extension EventBatchDecoder where Consumer == EventBatchCollector {
    /// Decodes a whole body and returns everything in it.
    static func decode(
        _ bytes: some Collection<UInt8>,
        limits: JSONLimits = .eventChannel
    ) throws(JSONError) -> EventBatchCollector {
        var decoder = EventBatchDecoder(consumer: EventBatchCollector(), limits: limits)
        try decoder.feed(bytes)
        try decoder.finish()
        return decoder.consumer
    }
}
