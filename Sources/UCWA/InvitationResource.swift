import StreamingJSON

/// The fields of an invitation resource that lifecycle records carry — the same for
/// `participantInvitation`, `messagingInvitation`, `onlineMeetingInvitation`,
/// `audioVideoInvitation` and `phoneAudioInvitation` (protocol notes §3.1). Everything is
/// optional: embedded copies are often partial, and unknown properties are ignored. Links other
/// than `conversation` and `from`'s title are not kept: records do not use them, and each kept
/// href costs an allocation per event.
public struct InvitationResource: Sendable, Equatable {
    // No initialiser in the declaration: the implicit memberwise one builds the resource in one
    // step for the decoder (a hand-written one made the optimiser copy it once more; see
    // UCWAEvent). `rel` is spelled `Optional<…>`, which has no implicit nil default, so that no
    // internal `init()` is synthesised next to the public one in the extension below.
    /// The resource's own `rel`, as sent.
    public var rel: Optional<UCWAText>
    public var direction: UCWAText?
    public var importance: UCWAText?
    public var operationId: UCWAText?
    /// `Connecting`, `Alerting`, `Connected`, `Failed`, `Declined`, `Cancelled`, `Forwarded`,
    /// `TeamRing` — kept as sent.
    public var state: UCWAText?
    /// User-controlled, up to 250 characters by the protocol.
    public var subject: UCWAText?
    public var threadId: UCWAText?
    /// The `to` property: the invitee's URI.
    public var to: UCWAText?
    /// `_links.conversation.href`.
    public var conversationHref: UCWAText?
    /// `_links.from.title`: the inviter's display name when the server gives it there.
    public var fromTitle: UCWAText?
    /// `_embedded.from.name` and `uri`: the inviting participant.
    public var fromName: UCWAText?
    public var fromURI: UCWAText?

    /// The inviter's display name: the embedded participant's `name`, else the `from` link's title.
    public var inviterName: UCWAText? { fromName ?? fromTitle }

    /// Decodes a resource document (the body of `GET` on an invitation href).
    public static func decode(_ bytes: some Collection<UInt8>, limits: JSONLimits = .default) throws(JSONError)
        -> InvitationResource
    {
        var tokenizer = JSONTokenizer(handler: InvitationResourceBuilder(), limits: limits)
        try tokenizer.feed(bytes)
        try tokenizer.finish()
        return tokenizer.handler.takeResource()
    }
}

extension InvitationResource {
    /// A resource with no fields.
    public init() {
        self.init(rel: nil)
    }
}
