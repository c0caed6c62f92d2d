/// The vocabulary of the batch parser's state machine: which container of the batch shape is
/// open, what the value after a key is for, and who receives an embedded resource's tokens.

/// Containers of the batch shape.
enum BatchContext {
    case root, rootLinks, rootLink, senders, sender, events, event, eventRef, reason, embedded
}

/// What the value after a key is for.
enum BatchSlot {
    case none
    case rootLinks, senders, baseURI
    case rootLink(BatchLinkKind)
    case rootLinkHref
    case senderRel, senderHref, events
    case eventLink, eventIn, type, status, reason, embedded
    case refRel, refHref, refTitle
    case code, subcode, message
    case embeddedInvitation
}

/// The key an embedded resource was found under.
enum EmbeddedKey {
    /// The link's rel (checked when the key was read).
    case matchesLink
    /// Read before the link: checked when the event closes.
    case pending(String)

    /// Whether the key names the link's rel; `linkName` is the rel's bytes without prefix.
    func matches(_ linkName: [UInt8]) -> Bool {
        switch self {
        case .matchesLink:
            return true
        case .pending(var key):
            return key.withUTF8 { key in
                linkName.withUnsafeBytes { ByteMatching.equals(ByteMatching.relName(UnsafeRawBufferPointer(key)), $0) }
            }
        }
    }
}

/// Who receives the tokens of an embedded resource: nobody, or the invitation builder (other
/// embedded resources are skipped).
enum BatchDelegate {
    case none, invitation
}
