import StreamingJSON

/// A token handler that decodes an invitation resource straight into `InvitationResource`,
/// skipping everything it does not need. Used for `GET` bodies and, token by token, for
/// resources embedded in event batches.
///
/// An explicit state machine: `stack` holds the open containers that matter (the resource, its
/// `_links`, one link, its `_embedded`, a participant there, that participant's `_links` and
/// `self` link, the `acceptedByParticipant` array, the `availableModalities` array); `slot` says
/// what the value after the last key is for; anything else is skipped by depth counting.
struct InvitationResourceBuilder: JSONTokenHandler {
    /// Fields read so far, by slot; their bytes are in `arena` until `takeResource()` makes
    /// them final.
    private var pending = PendingFields()
    private var arena = TextArena()

    private struct PendingFields {
        var rel, direction, importance, operationId, state, subject, threadId, to: TextArena.Pending?
        var conversationHref, fromTitle, fromName, fromURI: TextArena.Pending?
        var onBehalfOf, messageText, messageHref, customContentText, customContentHref: TextArena.Pending?
        var fromHref, fromSelfHref, toHref, toTitle, participantHref: TextArena.Pending?
        var acceptedByHref, acceptedByTitle, acceptedBySelfHref, acceptedByName, acceptedByURI: TextArena.Pending?
        var onlineMeetingURI, availableModalities: TextArena.Pending?
    }

    /// The participants embedded in an invitation that records describe.
    private enum Who: Sendable {
        case from, acceptedBy
    }

    private enum Context: Sendable {
        case resource, links, link, embedded
        /// `_embedded.acceptedByParticipant` when it is an array (only its first element is read).
        case acceptedList
        case participant(Who)
        case participantLinks(Who)
        case participantSelf(Who)
        case modalities
    }

    /// Which link of `_links` is open.
    private enum LinkName: Sendable {
        case conversation, from, to, participant, acceptedBy, message, customContent
    }

    /// What the next value is for.
    private enum Slot: Sendable {
        case none
        case rel, direction, importance, operationId, state, subject, threadId, to
        case onBehalfOf, message, customContent, onlineMeetingURI, modalities
        case links
        case link(LinkName)
        case href, title
        case embedded
        case participant(Who)
        case name, uri, participantLinks, selfLink, selfHref
    }

    private var stack: [Context] = []
    private var slot: Slot = .none
    private var openLink: LinkName = .conversation
    /// Elements of `acceptedByParticipant` opened so far (only the first is read).
    private var acceptedSeen = 0
    /// Depth of an unknown value being skipped.
    private var skipDepth = 0

    init() {}

    /// The decoded resource; the builder is left empty.
    mutating func takeResource() -> InvitationResource {
        let storage = arena.seal()
        let fields = pending
        pending = PendingFields()
        return InvitationResource(
            rel: fields.rel?.resolve(storage),
            direction: fields.direction?.resolve(storage),
            importance: fields.importance?.resolve(storage),
            operationId: fields.operationId?.resolve(storage),
            state: fields.state?.resolve(storage),
            subject: fields.subject?.resolve(storage),
            threadId: fields.threadId?.resolve(storage),
            to: fields.to?.resolve(storage),
            conversationHref: fields.conversationHref?.resolve(storage),
            fromTitle: fields.fromTitle?.resolve(storage),
            fromName: fields.fromName?.resolve(storage),
            fromURI: fields.fromURI?.resolve(storage),
            onBehalfOf: fields.onBehalfOf?.resolve(storage),
            message: (fields.messageText ?? fields.messageHref)?.resolve(storage),
            customContent: (fields.customContentText ?? fields.customContentHref)?.resolve(storage),
            fromHref: (fields.fromHref ?? fields.fromSelfHref)?.resolve(storage),
            toHref: fields.toHref?.resolve(storage),
            toTitle: fields.toTitle?.resolve(storage),
            participantHref: fields.participantHref?.resolve(storage),
            acceptedByHref: (fields.acceptedByHref ?? fields.acceptedBySelfHref)?.resolve(storage),
            acceptedByTitle: fields.acceptedByTitle?.resolve(storage),
            acceptedByName: fields.acceptedByName?.resolve(storage),
            acceptedByURI: fields.acceptedByURI?.resolve(storage),
            onlineMeetingURI: fields.onlineMeetingURI?.resolve(storage),
            availableModalities: fields.availableModalities?.resolve(storage)
        )
    }

    /// Prepares for the next resource, keeping allocated storage.
    mutating func reset() {
        pending = PendingFields()
        arena.reset()
        stack.removeAll(keepingCapacity: true)
        slot = .none
        acceptedSeen = 0
        skipDepth = 0
    }

    mutating func key(_ bytes: UnsafeRawBufferPointer) {
        guard skipDepth == 0, let context = stack.last else { return }
        slot = .none
        switch context {
        case .resource:
            if ByteMatching.equals(bytes, "state") {
                slot = .state
            } else if ByteMatching.equals(bytes, "direction") {
                slot = .direction
            } else if ByteMatching.equals(bytes, "importance") {
                slot = .importance
            } else if ByteMatching.equals(bytes, "operationId") {
                slot = .operationId
            } else if ByteMatching.equals(bytes, "subject") {
                slot = .subject
            } else if ByteMatching.equals(bytes, "threadId") {
                slot = .threadId
            } else if ByteMatching.equals(bytes, "to") {
                slot = .to
            } else if ByteMatching.equals(bytes, "rel") {
                slot = .rel
            } else if ByteMatching.equals(bytes, "_links") {
                slot = .links
            } else if ByteMatching.equals(bytes, "_embedded") {
                slot = .embedded
            } else if ByteMatching.equals(bytes, "onBehalfOf") {
                slot = .onBehalfOf
            } else if ByteMatching.equals(bytes, "onlineMeetingUri") {
                slot = .onlineMeetingURI
            } else if ByteMatching.equals(bytes, "availableModalities") {
                slot = .modalities
            } else {
                // The reference page spells this property `ms:rtc:saas:message`.
                let name = ByteMatching.relName(bytes)
                if ByteMatching.equals(name, "message") {
                    slot = .message
                } else if ByteMatching.equals(name, "customContent") {
                    slot = .customContent
                }
            }
        case .links:
            let name = ByteMatching.relName(bytes)
            if ByteMatching.equals(name, "conversation") {
                slot = .link(.conversation)
            } else if ByteMatching.equals(name, "from") {
                slot = .link(.from)
            } else if ByteMatching.equals(name, "to") {
                slot = .link(.to)
            } else if ByteMatching.equals(name, "participant") {
                slot = .link(.participant)
            } else if ByteMatching.equals(name, "acceptedByParticipant") {
                slot = .link(.acceptedBy)
            } else if ByteMatching.equals(name, "message") {
                slot = .link(.message)
            } else if ByteMatching.equals(name, "customContent") {
                slot = .link(.customContent)
            }
        case .link:
            if ByteMatching.equals(bytes, "href") {
                slot = .href
            } else if ByteMatching.equals(bytes, "title") {
                slot = .title
            }
        case .embedded:
            let name = ByteMatching.relName(bytes)
            if ByteMatching.equals(name, "from") {
                slot = .participant(.from)
            } else if ByteMatching.equals(name, "acceptedByParticipant") {
                slot = .participant(.acceptedBy)
            }
        case .participant:
            if ByteMatching.equals(bytes, "name") {
                slot = .name
            } else if ByteMatching.equals(bytes, "uri") {
                slot = .uri
            } else if ByteMatching.equals(bytes, "_links") {
                slot = .participantLinks
            }
        case .participantLinks:
            if ByteMatching.equals(bytes, "self") { slot = .selfLink }
        case .participantSelf:
            if ByteMatching.equals(bytes, "href") { slot = .selfHref }
        case .acceptedList, .modalities:
            break
        }
    }

    /// The participant whose fields are being read (the innermost participant context).
    private var who: Who {
        switch stack.last {
        case .participant(let who)?, .participantLinks(let who)?, .participantSelf(let who)?: who
        default: .from
        }
    }

    mutating func string(_ bytes: UnsafeRawBufferPointer) {
        guard skipDepth == 0 else { return }
        if case .modalities? = stack.last {
            // Names joined with commas: contiguous in the arena, since nothing else is added
            // while the array is open.
            if var joined = pending.availableModalities {
                arena.extend(&joined, separator: UInt8(ascii: ","), with: bytes)
                pending.availableModalities = joined
            } else {
                pending.availableModalities = arena.add(bytes)
            }
            return
        }
        switch slot {
        case .rel: pending.rel = arena.add(bytes)
        case .direction: pending.direction = arena.add(bytes)
        case .importance: pending.importance = arena.add(bytes)
        case .state: pending.state = arena.add(bytes)
        case .operationId: pending.operationId = arena.add(bytes)
        case .subject: pending.subject = arena.add(bytes)
        case .threadId: pending.threadId = arena.add(bytes)
        case .to: pending.to = arena.add(bytes)
        case .onBehalfOf: pending.onBehalfOf = arena.add(bytes)
        case .message: pending.messageText = arena.add(bytes)
        case .customContent: pending.customContentText = arena.add(bytes)
        case .onlineMeetingURI: pending.onlineMeetingURI = arena.add(bytes)
        case .href:
            switch openLink {
            case .conversation: pending.conversationHref = arena.add(bytes)
            case .from: pending.fromHref = arena.add(bytes)
            case .to: pending.toHref = arena.add(bytes)
            case .participant: pending.participantHref = arena.add(bytes)
            case .acceptedBy: pending.acceptedByHref = arena.add(bytes)
            case .message: pending.messageHref = arena.add(bytes)
            case .customContent: pending.customContentHref = arena.add(bytes)
            }
        case .title:
            switch openLink {
            case .from: pending.fromTitle = arena.add(bytes)
            case .to: pending.toTitle = arena.add(bytes)
            case .acceptedBy: pending.acceptedByTitle = arena.add(bytes)
            case .conversation, .participant, .message, .customContent: break
            }
        case .name:
            if case .from = who {
                pending.fromName = arena.add(bytes)
            } else {
                pending.acceptedByName = arena.add(bytes)
            }
        case .uri:
            if case .from = who { pending.fromURI = arena.add(bytes) } else { pending.acceptedByURI = arena.add(bytes) }
        case .selfHref:
            if case .from = who {
                pending.fromSelfHref = arena.add(bytes)
            } else {
                pending.acceptedBySelfHref = arena.add(bytes)
            }
        case .none, .links, .link, .embedded, .participant, .participantLinks, .selfLink, .modalities: break
        }
        slot = .none
    }

    mutating func objectStart() {
        if skipDepth > 0 {
            skipDepth += 1
            return
        }
        if stack.isEmpty {
            stack.append(.resource)
            return
        }
        switch slot {
        case .links: stack.append(.links)
        case .link(let name):
            openLink = name
            stack.append(.link)
        case .embedded: stack.append(.embedded)
        case .participant(let who): stack.append(.participant(who))
        case .participantLinks: stack.append(.participantLinks(who))
        case .selfLink: stack.append(.participantSelf(who))
        case .none:
            if case .acceptedList? = stack.last, acceptedSeen == 0 {
                acceptedSeen += 1
                stack.append(.participant(.acceptedBy))
            } else {
                if case .acceptedList? = stack.last { acceptedSeen += 1 }
                skipDepth = 1
            }
        case .rel, .direction, .importance, .operationId, .state, .subject, .threadId, .to, .onBehalfOf, .message,
            .customContent, .onlineMeetingURI, .modalities, .href, .title, .name, .uri, .selfHref:
            skipDepth = 1
        }
        slot = .none
    }

    mutating func objectEnd() {
        if skipDepth > 0 {
            skipDepth -= 1
        } else if !stack.isEmpty {
            stack.removeLast()
        }
    }

    mutating func arrayStart() {
        if skipDepth == 0 {
            switch slot {
            case .participant(.acceptedBy):
                acceptedSeen = 0
                stack.append(.acceptedList)
                slot = .none
                return
            case .modalities:
                stack.append(.modalities)
                slot = .none
                return
            default:
                break
            }
        }
        skipDepth += 1
        slot = .none
    }

    mutating func arrayEnd() {
        if skipDepth > 0 {
            skipDepth -= 1
        } else if !stack.isEmpty {
            stack.removeLast()
        }
    }

    mutating func number(_ bytes: UnsafeRawBufferPointer) { slot = .none }
    mutating func bool(_ value: Bool) { slot = .none }
    mutating func null() { slot = .none }
}
