import StreamingJSON

/// The token handler `EventBatchDecoder` runs: the parser, plus the hand-over of its findings
/// to the consumer right after the token that completed them (a string for links and
/// `baseuri`, an object end for events).
@usableFromInline
struct EventBatchHandler<Consumer: EventBatchConsumer>: JSONTokenHandler {
    @usableFromInline var parser: EventBatchParser
    @usableFromInline var consumer: Consumer

    @inlinable
    init(consumer: Consumer) {
        self.consumer = consumer
        parser = EventBatchParser()
    }

    @inlinable @inline(__always)
    mutating func handOverLinks() {
        guard !parser.output.isEmpty else { return }
        for finding in parser.output {
            switch finding {
            case .link(let kind, let href): consumer.batchLink(kind, href: href)
            case .baseURI(let uri): consumer.baseURI(uri)
            }
        }
        parser.output.removeAll(keepingCapacity: true)
    }

    @inlinable @inline(__always)
    mutating func handOverHeld() {
        if !parser.readyHeld.isEmpty {
            for event in parser.readyHeld { consumer.event(event) }
            parser.readyHeld.removeAll(keepingCapacity: true)
        }
    }

    @inlinable
    mutating func objectStart() throws(JSONError) { try parser.objectStart() }
    @inlinable
    mutating func arrayStart() throws(JSONError) { try parser.arrayStart() }
    @inlinable
    mutating func arrayEnd() throws(JSONError) { try parser.arrayEnd() }
    @inlinable
    mutating func key(_ bytes: UnsafeRawBufferPointer) throws(JSONError) { try parser.key(bytes) }
    @inlinable
    mutating func number(_ bytes: UnsafeRawBufferPointer) throws(JSONError) { try parser.number(bytes) }
    @inlinable
    mutating func bool(_ value: Bool) throws(JSONError) { try parser.bool(value) }
    @inlinable
    mutating func null() throws(JSONError) { try parser.null() }

    @inlinable
    mutating func objectEnd() throws(JSONError) {
        try parser.closeObject(handingTo: &consumer)
        handOverHeld()
    }

    @inlinable
    mutating func string(_ bytes: UnsafeRawBufferPointer) throws(JSONError) {
        try parser.string(bytes)
        handOverLinks()
    }
}
