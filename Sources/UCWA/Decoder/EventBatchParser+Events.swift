import StreamingJSON

/// Sender blocks, events and embedded resources of `EventBatchParser`.
extension EventBatchParser {
    /// Forgets the document in progress; keeps interned strings and buffer capacity.
    @usableFromInline
    mutating func reset() {
        output.removeAll(keepingCapacity: true)
        readyHeld.removeAll(keepingCapacity: true)
        stack.removeAll(keepingCapacity: true)
        slot = .none
        skipDepth = 0
        delegate = .none
        delegateDepth = 0
        openRootLink = .next
        ordinal = 0
        sawSenders = false
        senderIndex = -1
        eventIndex = 0
        sender = UCWALink(rel: "", href: "")
        senderHasRel = false
        senderHasHref = false
        held.removeAll(keepingCapacity: true)
        holding = false
        clearEvent()
    }

    mutating func openSender() {
        stack.append(.sender)
        senderIndex += 1
        eventIndex = 0
        sender = UCWALink(rel: "", href: "")
        senderHasRel = false
        senderHasHref = false
        holding = false
    }

    mutating func closeSender() {
        if !held.isEmpty {
            for var event in held {
                event.sender = sender
                readyHeld.append(event)
            }
            held.removeAll(keepingCapacity: true)
        }
        holding = false
    }

    mutating func openEvent() {
        stack.append(.event)
        clearEvent()
    }

    /// Forgets the fields of the event in progress.
    mutating func clearEvent() {
        arena.reset()
        linkRel = nil
        linkHref = nil
        linkTitle = nil
        inRel = nil
        inHref = nil
        inTitle = nil
        type = nil
        status = nil
        reasonCode = nil
        reasonSubcode = nil
        reasonMessage = nil
        hasReason = false
        if !embeddedEntries.isEmpty { embeddedEntries.removeAll(keepingCapacity: true) }
    }

    /// Builds the event from the fields gathered since `openEvent` and hands it on (or holds it
    /// until its sender is known). The texts become `UCWAText`s of one storage sealed here.
    mutating func closeEvent<Consumer: EventBatchConsumer>(handingTo consumer: inout Consumer) throws(JSONError) {
        guard linkRel != nil, linkHref != nil else {
            throw JSONError.rejected("event \(eventIndex) of sender \(senderIndex) has no link with a rel and an href")
        }
        if hasReason && reasonCode == nil {
            throw JSONError.rejected("event \(eventIndex) of sender \(senderIndex) has a reason without a code")
        }
        if holding {
            held.append(takeEvent())
        } else {
            consumer.event(takeEvent())
        }
    }

    /// The event gathered since `openEvent`, its texts in one storage sealed here.
    @inline(__always)
    private mutating func takeEvent() -> UCWAEvent {
        // Pending texts are offsets into the arena until it is sealed; openEvent clears them.
        let storage = arena.seal()
        let reason: UCWAReason? =
            if hasReason, let code = reasonCode {
                UCWAReason(
                    code: code.resolve(storage),
                    subcode: reasonSubcode?.resolve(storage),
                    message: reasonMessage?.resolve(storage)
                )
            } else {
                nil
            }
        let inLink: UCWALink? =
            if let inRel, let inHref {
                UCWALink(rel: inRel.resolve(storage), href: inHref.resolve(storage), title: inTitle?.resolve(storage))
            } else {
                nil
            }
        let embedded = takeEmbedded()
        let position = UCWAEvent.Position(ordinal: ordinal, senderIndex: senderIndex, eventIndex: eventIndex)
        ordinal += 1
        eventIndex += 1
        return UCWAEvent(
            position: position,
            sender: sender,
            link: UCWALink(
                rel: linkRel!.resolve(storage),
                href: linkHref!.resolve(storage),
                title: linkTitle?.resolve(storage)
            ),
            in: inLink,
            type: type.take(),
            status: status?.resolve(storage),
            reason: reason,
            embedded: embedded
        )
    }

    /// The embedded resource under the link's rel, moved out of the gathered entries (the usual
    /// batch has one entry).
    private mutating func takeEmbedded() -> UCWAEvent.Embedded? {
        guard !embeddedEntries.isEmpty else { return nil }
        defer { embeddedEntries.removeAll(keepingCapacity: true) }
        guard let index = embeddedEntries.lastIndex(where: { $0.key.matches(linkRelName) }) else { return nil }
        return embeddedEntries.remove(at: index).value
    }

    // MARK: Delegation of embedded resources

    mutating func forwardContainerStart(object: Bool) {
        delegateDepth += 1
        if object { invitationBuilder.objectStart() } else { invitationBuilder.arrayStart() }
    }

    mutating func forwardContainerEnd(object: Bool) {
        delegateDepth -= 1
        if object { invitationBuilder.objectEnd() } else { invitationBuilder.arrayEnd() }
        guard delegateDepth == 0 else { return }
        embeddedEntries.append((embeddedKey, .invitation(invitationBuilder.takeResource())))
        delegate = .none
    }

    // MARK: Messages

    static func describe(_ slot: BatchSlot) -> String {
        switch slot {
        case .rootLinks: return "\"_links\""
        case .senders: return "\"sender\""
        case .baseURI: return "\"baseuri\""
        case .rootLink(let kind): return "\"_links.\(kind.rawValue)\""
        case .rootLinkHref: return "\"_links.*.href\""
        case .senderRel: return "\"sender[].rel\""
        case .senderHref: return "\"sender[].href\""
        case .events: return "\"sender[].events\""
        case .eventLink: return "\"link\""
        case .eventIn: return "\"in\""
        case .type: return "\"type\""
        case .status: return "\"status\""
        case .reason: return "\"reason\""
        case .embedded: return "\"_embedded\""
        case .refRel: return "\"link.rel\""
        case .refHref: return "\"link.href\""
        case .refTitle: return "\"link.title\""
        case .code: return "\"reason.code\""
        case .subcode: return "\"reason.subcode\""
        case .message: return "\"reason.message\""
        case .embeddedInvitation: return "an embedded resource"
        case .none: return "the value"
        }
    }

    static func expectedShape(_ slot: BatchSlot) -> String {
        switch slot {
        case .senders, .events: return "an array"
        case .rootLinks, .rootLink, .eventLink, .eventIn, .reason, .embedded: return "an object"
        default: return "a string"
        }
    }
}

extension BatchSlot {
    var isIn: Bool {
        if case .eventIn = self { return true }
        return false
    }
}
