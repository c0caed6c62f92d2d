import StreamingJSON

/// A token handler that decodes an invitation resource straight into `InvitationResource`,
/// skipping everything it does not need. Used for `GET` bodies and, token by token, for
/// resources embedded in event batches.
struct InvitationResourceBuilder: JSONTokenHandler, Sendable {
    private(set) var resource = InvitationResource()
    /// Kept across `reset()`: states, directions and rels repeat from event to event.
    private var interner = ValueInterner()

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

    /// The decoded resource, moved out (the builder is left empty).
    mutating func takeResource() -> InvitationResource {
        var taken = InvitationResource()
        swap(&taken, &resource)
        return taken
    }

    /// Prepares for the next resource, keeping allocated storage and the interned values.
    mutating func reset() {
        resource = InvitationResource()
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
        let value = { ByteMatching.string(bytes) }
        switch slot {
        case .rel: resource.rel = interner.string(bytes)
        case .direction: resource.direction = interner.string(bytes)
        case .importance: resource.importance = interner.string(bytes)
        case .operationId: resource.operationId = value()
        case .state: resource.state = interner.string(bytes)
        case .subject: resource.subject = value()
        case .threadId: resource.threadId = value()
        case .to: resource.to = value()
        case .href:
            if case .conversation = openLink { resource.conversationHref = value() }
        case .title:
            if case .from = openLink { resource.fromTitle = value() }
        case .name: resource.fromName = value()
        case .uri: resource.fromURI = value()
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
