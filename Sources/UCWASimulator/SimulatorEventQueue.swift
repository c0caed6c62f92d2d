import StreamingJSON

// The events an application has queued and not yet put in a batch.
extension SimulatorServer {
    /// One queued event and its sender.
    struct QueuedEvent {
        var senderRel: String
        var senderHref: String
        /// The event as it goes on the wire, rendered once when queued.
        var rendered: [UInt8]
        /// For invitation events: which invitation, and its state once this event is sent.
        var invitation: (id: Int, state: String, completed: Bool)?

        init(
            senderRel: String,
            senderHref: String,
            event: JSONValue,
            invitation: (id: Int, state: String, completed: Bool)?
        ) {
            self.senderRel = senderRel
            self.senderHref = senderHref
            rendered = SimulatorDocuments.bytes(event)
            self.invitation = invitation
        }
    }

    /// Queued events in order; taking from the front costs the events taken, not the queue's
    /// length (a benchmark queues 100 000).
    struct EventQueue {
        private var storage: [QueuedEvent] = []
        private var head = 0

        var count: Int { storage.count - head }
        var isEmpty: Bool { count == 0 }

        mutating func append(_ event: QueuedEvent) { storage.append(event) }

        /// Removes and returns up to `limit` events from the front.
        mutating func take(_ limit: Int) -> [QueuedEvent] {
            let end = min(storage.count, head + limit)
            let taken = Array(storage[head..<end])
            head = end
            if head == storage.count {
                storage.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 4096 && head > storage.count / 2 {
                storage.removeFirst(head)
                head = 0
            }
            return taken
        }
    }
}
