/// One event of an event-channel batch, with the sender it came under (protocol notes §2.2).
public struct UCWAEvent: Sendable, Equatable {
    // `position` comes first so that the implicit memberwise initialiser, which the decoder
    // uses, has a signature of its own next to the package one below (declared in an extension,
    // which keeps the memberwise one). The memberwise initialiser builds the value in one step;
    // a hand-written one assigns a `self` on the stack that the optimiser then copies (a retain
    // and a release of every field; Benchmarks/README.md has the cost).
    /// Where the event sits in its batch; a re-delivered batch gives the same positions.
    public var position: Position
    /// The resource that owns or controls the target (`sender[].rel`/`href`).
    public var sender: UCWALink
    /// The event's target.
    public var link: UCWALink
    /// The collection the target was added to or removed from, when the server names it.
    public var `in`: UCWALink?
    /// `type`; `nil` when the event had none (a malformed event, kept so that nothing is lost).
    public var type: UCWAEventType?
    /// Event-level `status` (`Success`, `Failure`), optional even on `completed`.
    public var status: UCWAText?
    public var reason: UCWAReason?
    /// The embedded target resource, when the server embedded it under the link's rel.
    public var embedded: Embedded?

    /// An embedded resource the decoder keeps: an invitation, decoded straight into the model
    /// (other embedded resources are skipped). Indirect, so that an event stays small whether
    /// or not it carries one.
    public indirect enum Embedded: Sendable, Equatable {
        case invitation(InvitationResource)
    }

    /// The event's place in its batch.
    public struct Position: Sendable, Equatable, Hashable {
        /// 0-based index among all events of the batch, in document order.
        public var ordinal: Int
        /// 0-based index of the sender block in `sender[]`.
        var senderIndex: Int
        /// 0-based index of the event within its sender block.
        var eventIndex: Int

        init(ordinal: Int, senderIndex: Int, eventIndex: Int) {
            self.ordinal = ordinal
            self.senderIndex = senderIndex
            self.eventIndex = eventIndex
        }
    }

    /// The embedded invitation, if any.
    public var invitation: InvitationResource? {
        if case .invitation(let resource) = embedded { return resource }
        return nil
    }
}

extension UCWAEvent {
    init(
        sender: UCWALink,
        link: UCWALink,
        in: UCWALink? = nil,
        type: UCWAEventType?,
        status: UCWAText? = nil,
        reason: UCWAReason? = nil,
        embedded: Embedded? = nil,
        position: Position
    ) {
        self.init(
            position: position,
            sender: sender,
            link: link,
            in: `in`,
            type: type,
            status: status,
            reason: reason,
            embedded: embedded
        )
    }
}
