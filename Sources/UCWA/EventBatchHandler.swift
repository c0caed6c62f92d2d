import StreamingJSON

/// The token handler behind `EventBatchDecoder`: a state machine over the batch shape.
///
/// `stack` holds the containers of the batch shape that are open; `slot` says what the value
/// after the last key is for. Values the decoder does not need are skipped by depth counting
/// (`skipDepth`), embedded invitations are forwarded token by token to an
/// `InvitationResourceBuilder`, other embedded resources to a `JSONValueBuilder` when kept.
struct EventBatchHandler<Consumer: EventBatchConsumer>: JSONTokenHandler {
    var consumer: Consumer
    let keepOtherEmbedded: Bool

    enum Context {
        case root, rootLinks, rootLink, senders, sender, events, event, eventRef, reason, embedded
    }

    enum Slot {
        case none
        case rootLinks, senders, baseURI, rootLink(BatchLinkKind), rootLinkHref
        case senderRel, senderHref, events
        case eventLink, eventIn, type, status, reason, embedded
        case refRel, refHref, refTitle
        case code, subcode, message
        case embeddedInvitation, embeddedOther
    }

    enum Delegate {
        case none, invitation, value
    }

    var stack: [Context] = []
    var slot: Slot = .none
    var skipDepth = 0

    // Delegation of an embedded resource.
    var delegate: Delegate = .none
    var delegateDepth = 0
    var invitationBuilder = InvitationResourceBuilder()
    var valueBuilder = JSONValueBuilder()
    var embeddedKey = ""

    // Batch position.
    var openRootLink: BatchLinkKind = .next
    var ordinal = 0
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
    var linkRel: String?
    var linkHref: String?
    var linkTitle: String?
    var inRel: String?
    var inHref: String?
    var inTitle: String?
    var type: UCWAEventType?
    var status: String?
    var reasonCode: String?
    var reasonSubcode: String?
    var reasonMessage: String?
    var hasReason = false
    var embeddedEntries: [(key: String, value: UCWAEvent.Embedded)] = []

    init(consumer: Consumer, keepOtherEmbedded: Bool) {
        self.consumer = consumer
        self.keepOtherEmbedded = keepOtherEmbedded
    }

    // MARK: Keys

    mutating func key(_ bytes: UnsafeRawBufferPointer) throws(JSONError) {
        if delegate != .none {
            forwardKey(bytes)
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
            if ByteMatching.isInvitationRel(bytes) {
                slot = .embeddedInvitation
                embeddedKey = ByteMatching.string(bytes)
            } else if keepOtherEmbedded {
                slot = .embeddedOther
                embeddedKey = ByteMatching.string(bytes)
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

    mutating func string(_ bytes: UnsafeRawBufferPointer) throws(JSONError) {
        if delegate != .none {
            forwardScalar { (builder: inout InvitationResourceBuilder) in builder.string(bytes) } value: { $0.string(bytes) }
            return
        }
        if skipDepth > 0 { return }
        let current = slot
        slot = .none
        switch current {
        case .none:
            try elementMustBeObject(found: "a string")
        case .refRel:
            if refIsIn { inRel = ByteMatching.string(bytes) } else { linkRel = ByteMatching.string(bytes) }
        case .refHref:
            if refIsIn { inHref = ByteMatching.string(bytes) } else { linkHref = ByteMatching.string(bytes) }
        case .refTitle:
            if refIsIn { inTitle = ByteMatching.string(bytes) } else { linkTitle = ByteMatching.string(bytes) }
        case .type:
            type = UCWAEventType(bytes: bytes)
        case .status:
            status = ByteMatching.string(bytes)
        case .code:
            reasonCode = ByteMatching.string(bytes)
        case .subcode:
            reasonSubcode = ByteMatching.string(bytes)
        case .message:
            reasonMessage = ByteMatching.string(bytes)
        case .senderRel:
            sender.rel = ByteMatching.string(bytes)
            senderHasRel = true
        case .senderHref:
            sender.href = ByteMatching.string(bytes)
            senderHasHref = true
        case .rootLinkHref:
            consumer.batchLink(openRootLink, href: ByteMatching.string(bytes))
        case .baseURI:
            consumer.baseURI(ByteMatching.string(bytes))
        case .embeddedOther:
            embeddedEntries.append((embeddedKey, .value(.string(ByteMatching.string(bytes)))))
        case .embeddedInvitation:
            break
        case .rootLinks, .senders, .rootLink, .events, .eventLink, .eventIn, .reason, .embedded:
            throw JSONError.rejected("\(Self.describe(current)) must be \(Self.expectedShape(current)), found a string")
        }
    }

    mutating func number(_ bytes: UnsafeRawBufferPointer) throws(JSONError) {
        if delegate != .none {
            forwardScalar { $0.number(bytes) } value: { $0.number(bytes) }
            return
        }
        try scalar("a number") { $0.number(bytes) }
    }

    mutating func bool(_ value: Bool) throws(JSONError) {
        if delegate != .none {
            forwardScalar { $0.bool(value) } value: { $0.bool(value) }
            return
        }
        try scalar(value ? "true" : "false") { $0.bool(value) }
    }

    mutating func null() throws(JSONError) {
        if delegate != .none {
            forwardScalar { $0.null() } value: { $0.null() }
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
    private mutating func scalar(_ found: String, _ keep: (inout JSONValueBuilder) -> Void) throws(JSONError) {
        if skipDepth > 0 { return }
        let current = slot
        slot = .none
        switch current {
        case .none:
            try elementMustBeObject(found: found == "a number" ? found : "a boolean")
        case .embeddedInvitation:
            break
        case .embeddedOther:
            var builder = JSONValueBuilder()
            keep(&builder)
            if let value = builder.result { embeddedEntries.append((embeddedKey, .value(value))) }
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
            invitationBuilder = InvitationResourceBuilder()
            forwardContainerStart(object: true)
        case .embeddedOther:
            delegate = .value
            valueBuilder = JSONValueBuilder()
            forwardContainerStart(object: true)
        case .senders, .events:
            throw JSONError.rejected("\(Self.describe(current)) must be \(Self.expectedShape(current)), found an object")
        case .baseURI, .rootLinkHref, .senderRel, .senderHref, .type, .status, .refRel, .refHref, .refTitle, .code,
            .subcode, .message:
            throw JSONError.rejected("\(Self.describe(current)) must be a string, found an object")
        }
    }

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
        case .senders: stack.append(.senders)
        case .events:
            // Events that start before the sender's rel and href are known wait for the block
            // to close, so that every event carries its sender.
            holding = !(senderHasRel && senderHasHref)
            stack.append(.events)
        case .none:
            try elementMustBeObject(found: "an array")
            skipDepth = 1
        case .embeddedOther:
            delegate = .value
            valueBuilder = JSONValueBuilder()
            forwardContainerStart(object: false)
        case .embeddedInvitation:
            skipDepth = 1
        case .rootLinks, .rootLink, .eventLink, .eventIn, .reason, .embedded:
            throw JSONError.rejected("\(Self.describe(current)) must be \(Self.expectedShape(current)), found an array")
        case .baseURI, .rootLinkHref, .senderRel, .senderHref, .type, .status, .refRel, .refHref, .refTitle, .code,
            .subcode, .message:
            throw JSONError.rejected("\(Self.describe(current)) must be a string, found an array")
        }
    }

    mutating func objectEnd() throws(JSONError) {
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
        case .event: try closeEvent()
        case .sender: closeSender()
        case .root, .rootLinks, .rootLink, .senders, .events, .eventRef, .reason, .embedded: break
        }
    }

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
