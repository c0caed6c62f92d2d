import StreamingJSON

/// The state machine over the batch shape behind `EventBatchDecoder`.
///
/// `stack` holds the containers of the batch shape that are open; `slot` says what the value
/// after the last key is for. Values the decoder does not need are skipped by depth counting
/// (`skipDepth`), embedded invitations are forwarded token by token to an
/// `InvitationResourceBuilder`; other embedded resources are skipped like any unknown value.
///
/// The parser is deliberately not generic: `closeObject(handingTo:)` hands events on; held events
/// and links wait in `readyHeld` and `output` until the generic
/// `EventBatchHandler` hands it to the consumer right after the token that completed it. That
/// keeps all of this code compiled once, with no runtime generic metadata on the hot path.
@usableFromInline
struct EventBatchParser {
    /// Batch links and `baseuri` not yet handed to the consumer, in document order.
    @usableFromInline
    enum Finding {
        case link(BatchLinkKind, String)
        case baseURI(String)
    }

    @usableFromInline var output: [Finding] = []
    /// Held events released by the end of their sender block, in order.
    @usableFromInline var readyHeld: [UCWAEvent] = []

    var stack: [BatchContext] = []
    var slot: BatchSlot = .none
    var skipDepth = 0

    // Delegation of an embedded resource.
    var delegate: BatchDelegate = .none
    var delegateDepth = 0
    var invitationBuilder = InvitationResourceBuilder()
    var embeddedKey: EmbeddedKey = .matchesLink

    /// The bytes of the open event's link rel without prefix, for matching `_embedded` keys.
    var linkRelName: [UInt8] = []

    // Batch position.
    var openRootLink: BatchLinkKind = .next
    @usableFromInline var ordinal = 0
    /// Whether the body had a `sender` array (an empty one is a heartbeat batch).
    @usableFromInline var sawSenders = false
    var senderIndex = -1
    var eventIndex = 0

    // The open sender block.
    var sender = UCWALink(rel: "", href: "")
    var senderHasRel = false
    var senderHasHref = false
    /// Events of a sender block whose rel/href were not known yet when its events began.
    var held: [UCWAEvent] = []
    var holding = false

    // The open event.
    var refIsIn = false
    /// The bytes of the open event's texts; sealed into one storage when the event closes.
    var arena = TextArena()
    var linkRel: TextArena.Pending?
    var linkHref: TextArena.Pending?
    var linkTitle: TextArena.Pending?
    var inRel: TextArena.Pending?
    var inHref: TextArena.Pending?
    var inTitle: TextArena.Pending?
    var type: UCWAEventType?
    var status: TextArena.Pending?
    var reasonCode: TextArena.Pending?
    var reasonSubcode: TextArena.Pending?
    var reasonMessage: TextArena.Pending?
    var hasReason = false
    var embeddedEntries: [(key: EmbeddedKey, value: UCWAEvent.Embedded)] = []

    @usableFromInline
    init() {
        output.reserveCapacity(4)
    }

    // MARK: Keys

    @usableFromInline
    mutating func key(_ bytes: UnsafeRawBufferPointer) throws(JSONError) {
        if delegate != .none {
            invitationBuilder.key(bytes)
            return
        }
        if skipDepth > 0 { return }
        slot = .none
        guard let context = stack.last else { return }
        switch context {
        case .event:
            if ByteMatching.equals(bytes, "link") {
                slot = .eventLink
            } else if ByteMatching.equals(bytes, "type") {
                slot = .type
            } else if ByteMatching.equals(bytes, "_embedded") {
                slot = .embedded
            } else if ByteMatching.equals(bytes, "in") {
                slot = .eventIn
            } else if ByteMatching.equals(bytes, "status") {
                slot = .status
            } else if ByteMatching.equals(bytes, "reason") {
                slot = .reason
            }
        case .eventRef:
            if ByteMatching.equals(bytes, "rel") {
                slot = .refRel
            } else if ByteMatching.equals(bytes, "href") {
                slot = .refHref
            } else if ByteMatching.equals(bytes, "title") {
                slot = .refTitle
            }
        case .embedded:
            // The embedded resource that matters is the one under the link's rel. When the link
            // came first (the usual order) others are skipped at once; otherwise the key is kept
            // and matched when the event closes.
            if linkRel != nil {
                let name = ByteMatching.relName(bytes)
                let matches = linkRelName.withUnsafeBytes { ByteMatching.equals(name, $0) }
                guard matches else { return }
                embeddedKey = .matchesLink
            } else {
                embeddedKey = .pending(ByteMatching.string(bytes))
            }
            if ByteMatching.isInvitationRel(bytes) {
                slot = .embeddedInvitation
            }
        case .sender:
            if ByteMatching.equals(bytes, "events") {
                slot = .events
            } else if ByteMatching.equals(bytes, "rel") {
                slot = .senderRel
            } else if ByteMatching.equals(bytes, "href") {
                slot = .senderHref
            }
        case .reason:
            if ByteMatching.equals(bytes, "code") {
                slot = .code
            } else if ByteMatching.equals(bytes, "subcode") {
                slot = .subcode
            } else if ByteMatching.equals(bytes, "message") {
                slot = .message
            }
        case .root:
            if ByteMatching.equals(bytes, "sender") {
                slot = .senders
            } else if ByteMatching.equals(bytes, "_links") {
                slot = .rootLinks
            } else if ByteMatching.equals(bytes, "baseuri") {
                slot = .baseURI
            }
        case .rootLinks:
            let name = ByteMatching.relName(bytes)
            if ByteMatching.equals(name, "next") {
                slot = .rootLink(.next)
            } else if ByteMatching.equals(name, "self") {
                slot = .rootLink(.self)
            } else if ByteMatching.equals(name, "resume") {
                slot = .rootLink(.resume)
            } else if ByteMatching.equals(name, "resync") {
                slot = .rootLink(.resync)
            }
        case .rootLink:
            if ByteMatching.equals(bytes, "href") { slot = .rootLinkHref }
        case .senders, .events:
            break
        }
    }

    // MARK: Scalars

    @usableFromInline
    mutating func string(_ bytes: UnsafeRawBufferPointer) throws(JSONError) {
        if delegate != .none {
            invitationBuilder.string(bytes)
            return
        }
        if skipDepth > 0 { return }
        let current = slot
        slot = .none
        switch current {
        case .none:
            try elementMustBeObject(found: "a string")
        case .refRel:
            if refIsIn {
                inRel = arena.add(bytes)
            } else {
                linkRel = arena.add(bytes)
                linkRelName.removeAll(keepingCapacity: true)
                linkRelName.append(contentsOf: ByteMatching.relName(bytes))
            }
        case .refHref:
            if refIsIn { inHref = arena.add(bytes) } else { linkHref = arena.add(bytes) }
        case .refTitle:
            if refIsIn { inTitle = arena.add(bytes) } else { linkTitle = arena.add(bytes) }
        case .type:
            type = UCWAEventType(bytes: bytes)
        case .status:
            status = arena.add(bytes)
        case .code:
            reasonCode = arena.add(bytes)
        case .subcode:
            reasonSubcode = arena.add(bytes)
        case .message:
            reasonMessage = arena.add(bytes)
        case .senderRel:
            sender.rel = UCWAText(copying: bytes)
            senderHasRel = true
        case .senderHref:
            sender.href = UCWAText(copying: bytes)
            senderHasHref = true
        case .rootLinkHref:
            output.append(.link(openRootLink, ByteMatching.string(bytes)))
        case .baseURI:
            output.append(.baseURI(ByteMatching.string(bytes)))
        case .embeddedInvitation:
            break
        case .rootLinks, .senders, .rootLink, .events, .eventLink, .eventIn, .reason, .embedded:
            throw JSONError.rejected("\(Self.describe(current)) must be \(Self.expectedShape(current)), found a string")
        }
    }

    @usableFromInline
    mutating func number(_ bytes: UnsafeRawBufferPointer) throws(JSONError) {
        if delegate != .none {
            invitationBuilder.number(bytes)
            return
        }
        try scalar("a number")
    }

    @usableFromInline
    mutating func bool(_ value: Bool) throws(JSONError) {
        if delegate != .none {
            invitationBuilder.bool(value)
            return
        }
        try scalar(value ? "true" : "false")
    }

    @usableFromInline
    mutating func null() throws(JSONError) {
        if delegate != .none {
            invitationBuilder.null()
            return
        }
        if skipDepth > 0 { return }
        // null stands for "absent" wherever a string or an object is optional.
        let current = slot
        slot = .none
        switch current {
        case .none:
            try elementMustBeObject(found: "null")
        default:
            break
        }
    }

    /// A number or boolean outside a delegate: fine where unknown, refused where the shape
    /// expects a string or a container.
    mutating func scalar(_ found: String) throws(JSONError) {
        if skipDepth > 0 { return }
        let current = slot
        slot = .none
        switch current {
        case .none:
            try elementMustBeObject(found: found == "a number" ? found : "a boolean")
        case .embeddedInvitation:
            break
        default:
            throw JSONError.rejected("\(Self.describe(current)) must be \(Self.expectedShape(current)), found \(found)")
        }
    }

    /// Inside `sender[]` or `events[]`, every element must be an object.
    private func elementMustBeObject(found: String) throws(JSONError) {
        switch stack.last {
        case .senders: throw JSONError.rejected("each element of \"sender\" must be an object, found \(found)")
        case .events: throw JSONError.rejected("each element of \"events\" must be an object, found \(found)")
        case nil: throw JSONError.rejected("an event batch must be a JSON object, found \(found)")
        default: return
        }
    }

    // MARK: Containers

    @usableFromInline
    mutating func objectStart() throws(JSONError) {
        if delegate != .none {
            forwardContainerStart(object: true)
            return
        }
        if skipDepth > 0 {
            skipDepth += 1
            return
        }
        let current = slot
        slot = .none
        switch current {
        case .none:
            switch stack.last {
            case nil: stack.append(.root)
            case .senders: openSender()
            case .events: openEvent()
            default: skipDepth = 1
            }
        case .rootLinks: stack.append(.rootLinks)
        case .rootLink(let kind):
            openRootLink = kind
            stack.append(.rootLink)
        case .eventLink, .eventIn:
            refIsIn = current.isIn
            stack.append(.eventRef)
        case .reason:
            hasReason = true
            stack.append(.reason)
        case .embedded: stack.append(.embedded)
        case .embeddedInvitation:
            delegate = .invitation
            invitationBuilder.reset()
            forwardContainerStart(object: true)
        case .senders, .events:
            throw JSONError.rejected(
                "\(Self.describe(current)) must be \(Self.expectedShape(current)), found an object"
            )
        case .baseURI, .rootLinkHref, .senderRel, .senderHref, .type, .status, .refRel, .refHref, .refTitle, .code,
            .subcode, .message:
            throw JSONError.rejected("\(Self.describe(current)) must be a string, found an object")
        }
    }

    @usableFromInline
    mutating func arrayStart() throws(JSONError) {
        if delegate != .none {
            forwardContainerStart(object: false)
            return
        }
        if skipDepth > 0 {
            skipDepth += 1
            return
        }
        let current = slot
        slot = .none
        switch current {
        case .senders:
            sawSenders = true
            stack.append(.senders)
        case .events:
            // Events that start before the sender's rel and href are known wait for the block
            // to close, so that every event carries its sender.
            holding = !(senderHasRel && senderHasHref)
            stack.append(.events)
        case .none:
            try elementMustBeObject(found: "an array")
            skipDepth = 1
        case .embeddedInvitation:
            skipDepth = 1
        case .rootLinks, .rootLink, .eventLink, .eventIn, .reason, .embedded:
            throw JSONError.rejected("\(Self.describe(current)) must be \(Self.expectedShape(current)), found an array")
        case .baseURI, .rootLinkHref, .senderRel, .senderHref, .type, .status, .refRel, .refHref, .refTitle, .code,
            .subcode, .message:
            throw JSONError.rejected("\(Self.describe(current)) must be a string, found an array")
        }
    }

    /// Handles an object end, handing the event it completed (if any) to `consumer` at once.
    /// Generic but not specialised: the event is built where the consumer reads it, so it is
    /// never moved; the consumer is called through its witness table.
    @usableFromInline
    mutating func closeObject<Consumer: EventBatchConsumer>(handingTo consumer: inout Consumer) throws(JSONError) {
        if delegate != .none {
            forwardContainerEnd(object: true)
            return
        }
        if skipDepth > 0 {
            skipDepth -= 1
            return
        }
        let closed = stack.removeLast()
        switch closed {
        case .event: try closeEvent(handingTo: &consumer)
        case .sender: closeSender()
        case .root, .rootLinks, .rootLink, .senders, .events, .eventRef, .reason, .embedded: break
        }
    }

    @usableFromInline
    mutating func arrayEnd() throws(JSONError) {
        if delegate != .none {
            forwardContainerEnd(object: false)
            return
        }
        if skipDepth > 0 {
            skipDepth -= 1
            return
        }
        stack.removeLast()
    }
}
