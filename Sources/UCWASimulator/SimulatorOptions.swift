/// How the simulated server behaves for a whole run. Faults that happen once are injected
/// at run time with `UCWASimulator.inject(_:)`.
package struct SimulatorOptions: Sendable {
    package var username: String
    package var password: String
    /// `expires_in` of issued tokens; a token is refused (401) after it.
    var tokenLifetime: Duration
    /// The autodiscover root answers with a `redirect` link to the second pool's root.
    var redirectAutodiscover: Bool
    /// The first pool's user resource answers (after authentication) with a `redirect` link to
    /// the second pool: the client must get a new token there.
    var redirectUser: Bool
    /// `href=` in the MsRtcOAuth challenge without quotes (as the UCWA concept page shows it).
    var unquotedChallengeHref: Bool
    /// Rels carry the `ms:rtc:saas:` prefix (the Trusted Application API flavour).
    var prefixedRels: Bool
    /// Invitation events carry the resource in `_embedded`; otherwise only the link.
    package var embedResources: Bool
    /// GETs of an invitation that has completed answer 404 (the server cleaned it up).
    var completedInvitationsGone: Bool
    /// Most events put in one batch.
    package var maxEventsPerBatch: Int
    /// Keep every request line in `SimulatorStats.requests` (tests assert on them; a benchmark
    /// of 100 000 GETs turns it off).
    package var recordRequests = true
    /// Batches end with a `baseuri` (this server's URL), after `sender`, as the Trusted
    /// Application API sends it, and the hrefs in them (links, senders, embedded resources,
    /// `next`) are relative without a leading `/`: resolved against the request URL instead of
    /// the `baseuri` they name a resource that does not exist. Applies to events queued after it
    /// is set.
    var lateBaseURI = false
    /// Every events GET gets only a `resync` link (see `SimulatorFault.resyncStorm`).
    var resyncEveryPoll = false

    package init(
        username: String = "alice@contoso.com",
        password: String = "correct horse battery staple",
        tokenLifetime: Duration = .seconds(8 * 3600),
        redirectAutodiscover: Bool = false,
        redirectUser: Bool = false,
        unquotedChallengeHref: Bool = false,
        prefixedRels: Bool = false,
        embedResources: Bool = true,
        completedInvitationsGone: Bool = false,
        maxEventsPerBatch: Int = 50
    ) {
        self.username = username
        self.password = password
        self.tokenLifetime = tokenLifetime
        self.redirectAutodiscover = redirectAutodiscover
        self.redirectUser = redirectUser
        self.unquotedChallengeHref = unquotedChallengeHref
        self.prefixedRels = prefixedRels
        self.embedResources = embedResources
        self.completedInvitationsGone = completedInvitationsGone
        self.maxEventsPerBatch = maxEventsPerBatch
    }
}

/// A fault the simulator applies to the next request it concerns, then forgets.
package enum SimulatorFault: Sendable, Hashable {
    /// The next events answer sends half its body, then closes the connection.
    case dropConnectionMidBody
    /// The next events answer is written one byte per flush.
    case oneByteChunks
    /// The next events answer sends half its body, then nothing more (the connection stays
    /// open): the client's low-speed or total time limit must end it.
    case stallMidBody
    /// The next events answer sends its status and headers, then nothing more (the connection
    /// stays open): no body byte arrives, so the client's low-speed limit ends it after its
    /// configured time, with no earlier bytes keeping the measured rate up.
    case stallBeforeBody
    /// The next events GET gets this status (5xx, 429, 503) with an optional `Retry-After`.
    case eventsStatus(Int, retryAfterSeconds: Int?)
    /// Every token issued so far is revoked: the next request gets 401.
    case revokeTokens
    /// The application is deleted: its next events GET gets 404 `ApplicationNotFound`.
    case applicationGone
    /// The application expired: its next events GET gets 410 `InactiveApplicationExpired`.
    case applicationExpired
    /// The next events GET is answered with only a `resync` link.
    case resync
    /// The next batch carries `resume` instead of `next`; the server forgets the query
    /// parameters (as after a channel re-creation).
    case resume
    /// The next batch with events is not valid JSON (it is re-sent the same way while
    /// unacknowledged; its `next` link comes before the error).
    case malformedBatch
    /// The next events GET is never answered: the client must time out and retry.
    case silentPoll
    /// The next events answer is a hostile body, generated as it is sent (never held in memory).
    case hostileBody(HostileBody)
    /// The next invitation GET answers with this status.
    case invitationStatus(Int)
    /// The next invitation GET waits this long before answering.
    case slowInvitation(Duration)
    /// The next request on `route` is answered with `status`, a UCWA error body with
    /// `subcode`, and `Retry-After` when given (inject it N times for N answers in a row). A
    /// parked poll is not released by it: it applies to the next events GET.
    case answer(SimulatorRoute, status: Int, subcode: String? = nil, retryAfterSeconds: Int? = nil)
    /// From now on every events GET is answered with only a `resync` link (a server stuck in
    /// a resync storm; `SimulatorOptions.resyncEveryPoll`). Not forgotten after one use.
    case resyncStorm
}

/// The kinds of request `SimulatorFault.answer` can aim at.
package enum SimulatorRoute: Sendable, Hashable {
    /// `GET …/autodiscover/autodiscoverservice.svc/root`
    case autodiscover
    /// `GET …/root/oauth/user`
    case user
    /// `POST …/WebTicket/oauthtoken`
    case token
    /// `POST …/ucwa/oauth/v1/applications`
    case applications
    /// `GET …/applications/N/events`
    case events
    /// `GET …/communication/participantInvitations/N`
    case invitation
}

/// Bodies that a client must refuse with flat memory.
package enum HostileBody: Sendable, Hashable {
    /// A batch whose `sender` array opens `depth` nested arrays.
    case deepNesting(depth: Int)
    /// A batch whose first event's subject is a string of this many bytes.
    case longString(bytes: Int)
    /// A batch of valid events that goes on for this many bytes (nil: forever), sent with that
    /// Content-Length (or chunked).
    case endlessEvents(totalBytes: Int?)
}

/// How a simulated participant invitation ends.
package enum InvitationOutcome: Sendable, Hashable {
    case connected
    case failed(code: String, subcode: String, message: String)
    case declined
    case cancelled

    /// One of each ending (two kinds of failure), for demos and `ucwa-sim`.
    package static let variety: [InvitationOutcome] = [
        .connected, .declined, .connected, .cancelled,
        .failed(code: "RemoteFailure", subcode: "Timeout", message: "The invitee did not answer."),
        .failed(code: "RemoteFailure", subcode: "DestinationNotFound", message: "The person is not found."),
    ]

    var finalState: String {
        switch self {
        case .connected: "Connected"
        case .failed: "Failed"
        case .declined: "Declined"
        case .cancelled: "Cancelled"
        }
    }
}

/// One invitation to walk through its lifecycle.
package struct InvitationScript: Sendable, Hashable {
    var to: String
    var subject: String
    var outcome: InvitationOutcome
    /// Emit `started` (a quick operation may produce only `completed`).
    var withStarted: Bool
    /// Emit an `updated` event in state Alerting.
    var withAlerting: Bool
    /// The invitation's rel: `participantInvitation`, `messagingInvitation`,
    /// `onlineMeetingInvitation` (which carries an `onlineMeetingUri` and `availableModalities`), …
    var kind: String
    /// `onBehalfOf`, when set.
    var onBehalfOf: String?
    /// The first message, sent as a `message` link with a `data:` URI (form-style encoding).
    var message: String?
    /// The invitee only as a `to` people link (`…/people/<address>`, title `toName`), with no
    /// `to` string, as every UCWA messagingInvitation sample has it.
    var toAsLink: Bool
    var toName: String?
    /// The inviter only as a `from` participant link without a title (no name, no embedded
    /// participant).
    var fromLinkOnly: Bool
    /// Who accepts a connected invitation: embedded as `acceptedByParticipant` (an array of one
    /// participant, as the SendAnIM sample has it) in the resource once it is Connected.
    var acceptedBy: (name: String, uri: String)?

    package init(
        to: String = "sip:bob@contoso.com",
        subject: String = "Quarterly review",
        outcome: InvitationOutcome = .connected,
        withStarted: Bool = true,
        withAlerting: Bool = true,
        kind: String = "participantInvitation",
        onBehalfOf: String? = nil,
        message: String? = nil,
        toAsLink: Bool = false,
        toName: String? = nil,
        fromLinkOnly: Bool = false,
        acceptedBy: (name: String, uri: String)? = nil
    ) {
        self.to = to
        self.subject = subject
        self.outcome = outcome
        self.withStarted = withStarted
        self.withAlerting = withAlerting
        self.kind = kind
        self.onBehalfOf = onBehalfOf
        self.message = message
        self.toAsLink = toAsLink
        self.toName = toName
        self.fromLinkOnly = fromLinkOnly
        self.acceptedBy = acceptedBy
    }

    package static func == (a: InvitationScript, b: InvitationScript) -> Bool {
        a.to == b.to && a.subject == b.subject && a.outcome == b.outcome && a.withStarted == b.withStarted
            && a.withAlerting == b.withAlerting && a.kind == b.kind && a.onBehalfOf == b.onBehalfOf
            && a.message == b.message
            && a.toAsLink == b.toAsLink && a.toName == b.toName && a.fromLinkOnly == b.fromLinkOnly
            && a.acceptedBy?.name == b.acceptedBy?.name && a.acceptedBy?.uri == b.acceptedBy?.uri
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(to)
        hasher.combine(subject)
        hasher.combine(kind)
        hasher.combine(message)
    }
    /// How many events playing this script queues.
    package var eventCount: Int { (withStarted ? 1 : 0) + (withAlerting ? 1 : 0) + 1 }
}

/// What the simulator has seen, for tests to assert on.
package struct SimulatorStats: Sendable {
    /// `METHOD path?query` of every request, in arrival order.
    var requests: [String] = []
    /// TCP connections accepted (keep-alive reuse keeps this low).
    var connectionsAccepted = 0
    package var tokensIssued = 0
    package var applicationsCreated = 0
    /// Events GETs released with 409 `PGetReplaced`.
    var pollsReplaced = 0
    /// Events in batches that the client acknowledged (by requesting the following batch).
    package var eventsAcknowledged = 0
    /// Events queued but not yet acknowledged.
    var eventsOutstanding = 0
    /// Batches sent more than once (because they were not acknowledged).
    var batchesResent = 0
    /// GETs of people and participants.
    var peopleRequests = 0
    /// When the first batch holding events was formed (the benchmark's start).
    package var firstEventsBatchFormed: ContinuousClock.Instant?
    /// When an acknowledgement last covered events (the benchmark's end, once all are covered).
    package var lastEventsAcknowledged: ContinuousClock.Instant?
}
