import StreamingJSON

/// The fields of an invitation resource that lifecycle records carry — the same for
/// `participantInvitation`, `messagingInvitation`, `onlineMeetingInvitation`,
/// `audioVideoInvitation` and `phoneAudioInvitation` (protocol notes §3.1). Everything is
/// optional: embedded copies are often partial, and unknown properties are ignored. Links other
/// than `conversation` and `from`'s title are not kept: records do not use them, and each kept
/// href costs an allocation per event.
public struct InvitationResource: Sendable, Equatable {
    /// The resource's own `rel`, as sent.
    public var rel: String?
    public var direction: String?
    public var importance: String?
    public var operationId: String?
    /// `Connecting`, `Alerting`, `Connected`, `Failed`, `Declined`, `Cancelled`, `Forwarded`,
    /// `TeamRing` — kept as sent.
    public var state: String?
    /// User-controlled, up to 250 characters by the protocol.
    public var subject: String?
    public var threadId: String?
    /// The `to` property: the invitee's URI.
    public var to: String?
    /// `_links.conversation.href`.
    public var conversationHref: String?
    /// `_links.from.title`: the inviter's display name when the server gives it there.
    public var fromTitle: String?
    /// `_embedded.from.name` and `uri`: the inviting participant.
    public var fromName: String?
    public var fromURI: String?

    public init() {}

    /// The inviter's display name: the embedded participant's `name`, else the `from` link's title.
    public var inviterName: String? { fromName ?? fromTitle }

    /// Decodes a resource document (the body of `GET` on an invitation href).
    public static func decode(_ bytes: some Collection<UInt8>, limits: JSONLimits = .default) throws(JSONError)
        -> InvitationResource
    {
        var tokenizer = JSONTokenizer(handler: InvitationResourceBuilder(), limits: limits)
        try tokenizer.feed(bytes)
        try tokenizer.finish()
        return tokenizer.handler.resource
    }
}
