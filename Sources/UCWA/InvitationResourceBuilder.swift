import StreamingJSON

/// A token handler that decodes an invitation resource straight into `InvitationResource`,
/// skipping everything it does not need. Used for `GET` bodies and, token by token, for
/// resources embedded in event batches.
struct InvitationResourceBuilder: JSONTokenHandler {
    /// Fields read so far, by slot; their bytes are in `arena` until `takeResource()` makes
    /// them final.
    private var pending = PendingFields()
    private var arena = TextArena()

    private struct PendingFields {
        var rel, direction, importance, operationId, state, subject, threadId, to: TextArena.Pending?
        var conversationHref, fromTitle, fromName, fromURI: TextArena.Pending?
    }

    private enum Context: Sendable {
        case resource, links, link, embedded, from
    }

    /// Which link of `_links` is open.
    private enum LinkName: Sendable {
        case conversation, from
    }

    /// What the next value is for.
    private enum Slot: Sendable {
        case none
        case rel, direction, importance, operationId, state, subject, threadId, to
        case links, link(LinkName), href, title
        case embedded, from, name, uri
    }

    private var stack: [Context] = []
    private var slot: Slot = .none
    private var openLink: LinkName = .conversation
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
            fromURI: fields.fromURI?.resolve(storage))
    }

    /// Prepares for the next resource, keeping allocated storage.
    mutating func reset() {
        pending = PendingFields()
        arena.reset()
        stack.removeAll(keepingCapacity: true)
        slot = .none
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
            }
        case .links:
            let name = ByteMatching.relName(bytes)
            if ByteMatching.equals(name, "conversation") {
                slot = .link(.conversation)
            } else if ByteMatching.equals(name, "from") {
                slot = .link(.from)
            }
        case .link:
            if ByteMatching.equals(bytes, "href") {
                slot = .href
            } else if ByteMatching.equals(bytes, "title") {
                slot = .title
            }
        case .embedded:
            if ByteMatching.equals(ByteMatching.relName(bytes), "from") { slot = .from }
        case .from:
            if ByteMatching.equals(bytes, "name") {
                slot = .name
            } else if ByteMatching.equals(bytes, "uri") {
                slot = .uri
            }
        }
    }

    mutating func string(_ bytes: UnsafeRawBufferPointer) {
        guard skipDepth == 0 else { return }
        switch slot {
        case .rel: pending.rel = arena.add(bytes)
        case .direction: pending.direction = arena.add(bytes)
        case .importance: pending.importance = arena.add(bytes)
        case .state: pending.state = arena.add(bytes)
        case .operationId: pending.operationId = arena.add(bytes)
        case .subject: pending.subject = arena.add(bytes)
        case .threadId: pending.threadId = arena.add(bytes)
        case .to: pending.to = arena.add(bytes)
        case .href:
            if case .conversation = openLink { pending.conversationHref = arena.add(bytes) }
        case .title:
            if case .from = openLink { pending.fromTitle = arena.add(bytes) }
        case .name: pending.fromName = arena.add(bytes)
        case .uri: pending.fromURI = arena.add(bytes)
        case .none, .links, .link, .embedded, .from: break
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
        case .from: stack.append(.from)
        case .none, .rel, .direction, .importance, .operationId, .state, .subject, .threadId, .to, .href, .title,
            .name, .uri:
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
        skipDepth += 1
        slot = .none
    }

    mutating func arrayEnd() {
        skipDepth -= 1
    }

    mutating func number(_ bytes: UnsafeRawBufferPointer) { slot = .none }
    mutating func bool(_ value: Bool) { slot = .none }
    mutating func null() { slot = .none }
}
