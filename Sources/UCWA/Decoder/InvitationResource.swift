import StreamingJSON

/// The fields of an invitation resource that lifecycle records carry — the same for
/// `participantInvitation`, `messagingInvitation`, `onlineMeetingInvitation`,
/// `audioVideoInvitation` and `phoneAudioInvitation` (protocol notes §3.1, the
/// participantInvitation reference page). Everything is optional: embedded copies are often
/// partial, and unknown properties are ignored. Hrefs are kept as sent (often relative); the
/// record builder resolves them against the base the resource came with. Action links
/// (`cancel`, `accept`, `decline`, …) and the `self` link (the invitation href is the event's
/// link) are not kept: nobody searches records for them, and each kept href costs bytes per event.
public struct InvitationResource: Sendable, Equatable {
    // No initialiser in the declaration: the implicit memberwise one builds the resource in one
    // step for the decoder (a hand-written one made the optimiser copy it once more; see
    // UCWAEvent). `rel` is spelled `Optional<…>`, which has no implicit nil default, so that no
    // internal `init()` is synthesised next to the package one in the extension below.
    /// The resource's own `rel`, as sent.
    var rel: Optional<UCWAText>
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
    var fromTitle: UCWAText?
    /// `_embedded.from.name` and `uri`: the inviting participant.
    public var fromName: UCWAText?
    public var fromURI: UCWAText?
    /// `onBehalfOf`: the display name the inviter sends on someone's behalf (≤ 250 characters).
    var onBehalfOf: UCWAText?
    /// The invitation's first message: the `message` property's text, else the `message`
    /// link's href (UCWA sends a `data:` URI; see `DataURI`).
    var message: UCWAText?
    /// `customContent`: the property's text, else the link's href (a `data:` URI).
    var customContent: UCWAText?
    /// `_links.from.href`, else `_embedded.from._links.self.href`: the inviting participant.
    public var fromHref: UCWAText?
    /// `_links.to`: the invitee as a contact (`…/people/<address>`) and its display name.
    public var toHref: UCWAText?
    public var toTitle: UCWAText?
    /// `_links.participant.href`: the remote participant.
    var participantHref: UCWAText?
    /// Who accepted: `_links.acceptedByParticipant` (href, title), else the first participant
    /// of `_embedded.acceptedByParticipant` (its `self` href, `name`, `uri`).
    public var acceptedByHref: UCWAText?
    var acceptedByTitle: UCWAText?
    public var acceptedByName: UCWAText?
    public var acceptedByURI: UCWAText?
    /// `onlineMeetingUri` of a meeting invitation.
    var onlineMeetingURI: UCWAText?
    /// `availableModalities` (an array of names), joined with commas in document order.
    var availableModalities: UCWAText?

    /// The inviter's display name: the embedded participant's `name`, else the `from` link's
    /// title (an empty name counts as absent).
    public var inviterName: UCWAText? { fromName.nonEmpty ?? fromTitle.nonEmpty }

    /// The accepting participant's display name: the embedded `name`, else the link's title.
    public var acceptorName: UCWAText? { acceptedByName.nonEmpty ?? acceptedByTitle.nonEmpty }

    /// Decodes a resource document (the body of `GET` on an invitation href).
    public static func decode(
        _ bytes: some Collection<UInt8>,
        limits: JSONLimits = .default
    ) throws(JSONError)
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
    init() {
        self.init(rel: nil)
    }
}

extension Optional where Wrapped == UCWAText {
    /// The text unless it is absent or empty (servers send `"name": ""` for "no name").
    public var nonEmpty: UCWAText? {
        if let self, !self.isEmpty { return self }
        return nil
    }
}
