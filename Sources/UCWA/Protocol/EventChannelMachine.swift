/// Why events may have been lost or replayed: each becomes a `ucwa.channel.reset` record.
package enum ChannelResetReason: String, Sendable, Hashable {
    /// The server answered `resync`: the client lost its place (caches of transient state are void).
    case resync
    /// The server answered `resume` after a long absence: transient state was reset.
    case resume
    /// 404 `ApplicationNotFound`: a new application was created; events of the old one are lost.
    case applicationNotFound = "application_not_found"
    /// 410 `InactiveApplicationExpired`: as above, after the server expired the application.
    case applicationExpired = "application_expired"
    /// A batch kept failing to decode and was skipped (saved under `state/quarantine/`): its
    /// events are lost.
    case batchSkipped = "batch_skipped"
    /// A 403 made the daemon discover the server again (protocol notes §1.1), and the sign-in
    /// that followed gave another application: events of the old one are lost.
    case applicationReplaced = "application_replaced"
}

/// How one long poll ended, as the driver reports it to `EventChannelMachine`.
package enum PollOutcome: Sendable, Equatable {
    /// A complete, valid batch: the links it carried (hrefs as sent) and the absolute URL they
    /// resolve against, its `baseuri` as the body's reader resolved it (`BodyBaseHold`, the
    /// one place it is resolved); nil: the request URL.
    case batch(BatchLinks, base: String? = nil)
    /// The body was not a valid batch; `next` is the next href if the decoder saw it first.
    case malformed(description: String, next: String?)
    /// A status other than 2xx, with the UCWA error subcode and the `Retry-After` delay;
    /// `error`: the parsed error body, carried into the reset record if the application is
    /// replaced after it (404/410, or 403 and a rediscovery that finds another application).
    case status(Int, subcode: String?, retryAfter: Duration?, error: UCWAErrorBody? = nil)
    /// The transfer itself failed.
    case transport(description: String, retryable: Bool)
}

/// The tickets below are handed out with an action and handed back with the input that
/// answers it: an input can only be given for an action the machine asked for (their
/// initialisers are internal), and a ticket from an earlier action is refused loudly.

/// `GET url` (the client's `timeout` already added); hand it back to `pollEnded`.
package struct PollRequest: Sendable, Equatable {
    package let url: String
    /// The server-side long-poll `timeout` in the URL, in seconds.
    package let timeoutSeconds: Int
    /// The batch whose events were handed over and that this poll acknowledges (its `next`,
    /// `resume` or `resync` is `url`): record it as complete before polling. nil: none.
    package let completes: String?
    /// The last poll of `url` failed to decode: save this body as it arrives, so that it can be
    /// quarantined if it fails again and is skipped.
    package let capture: Bool
    /// The body at `url` was partly handed over before (a broken transfer or a retry): skip its
    /// events at positions below this, they are not handed over twice.
    package let skip: Int
    let ticket: UInt64
}

/// Sleep `delay`, then hand this back to `backoffElapsed`; `url` is polled next.
package struct Backoff: Sendable, Equatable {
    /// The URL that failed (or answered `resync` again).
    package let failedURL: String
    /// The URL polled after the wait.
    let url: String
    package let delay: Duration
    /// Why, in a few words (starts with the URL for transport errors).
    package let reason: String
    /// Which retry this is (1 for the first).
    package let attempt: Int
    let ticket: UInt64
}

/// Get a new token (401, or 403 with a token subcode at `url`), then hand this back to `reauthenticated`.
package struct Reauthentication: Sendable, Equatable {
    let url: String
    let status: Int
    let ticket: UInt64
}

/// Discover the server again and sign in (403 at `url`, protocol notes §1.1), then hand
/// this back to `rediscovered`.
package struct Rediscovery: Sendable, Equatable {
    package let url: String
    package let subcode: String?
    /// The 403's error body, for the reset record if another application is found.
    let serverError: UCWAErrorBody?
    let ticket: UInt64
}

/// Create a new application (the old one is gone), then hand this back to `applicationCreated`.
package struct Recreation: Sendable, Equatable {
    package let reason: ChannelResetReason
    /// The events URL that answered 404/410.
    package let url: String
    /// The 404/410's error body, for the reset record.
    let serverError: UCWAErrorBody?
    let ticket: UInt64
}

/// The application that replaced a lost one (a new one after 404/410, or another one found by a
/// rediscovery after 403): what the reset record says about it, and the endpoints to open after it.
package struct ApplicationReplacement: Sendable, Equatable {
    package let endpoints: ApplicationEndpoints
    /// The href of the application that was lost.
    package let previousApplication: String
    /// The server's error body of the poll that found the application gone (or forbidden).
    package let serverError: UCWAErrorBody?
}

/// Why the channel stops for good, with the daemon's exit code.
package enum ChannelStop: Error, Sendable, Equatable, CustomStringConvertible {
    /// Failures in a row outlived the retry budget (exit 75, restarted).
    case retryBudgetSpent(RetryBudgetSpent)
    /// A transport failure that waiting cannot fix, e.g. an untrusted certificate (exit 75).
    case transport(String)
    /// 401 (or 403 with a token subcode) again right after new tokens (exit 77, not restarted).
    case unauthorized(url: String, status: Int, tokens: Int)
    /// The server refuses this client in a way only an operator can change: 410
    /// `TooManyApplications`/`UserAgentNotAllowed`/…, or 403 again after a new sign-in
    /// (exit 76, not restarted). `advice` says what to do.
    case refused(url: String, status: Int, subcode: String?, advice: String)
    /// An input that does not fit the machine's state: a bug in the daemon (exit 70, restarted:
    /// a new process starts from the checkpoint, and the start limit ends a loop).
    case internalInconsistency(state: String, input: String)

    package var description: String {
        switch self {
        case .retryBudgetSpent(let spent):
            "\(spent)"
        case .transport(let description):
            description
        case .unauthorized(let url, let status, let tokens):
            "\(url): HTTP \(status) again after \(tokens) new tokens: the server does not accept the tokens it grants this user"
        case .refused(let url, let status, let subcode, let advice):
            "\(url): HTTP \(status) \(subcode ?? "(no subcode)"): \(advice)"
        case .internalInconsistency(let state, let input):
            "internal inconsistency: the event channel got \(input) while \(state); this is a bug in ucwa-eventd"
        }
    }

    /// The daemon's exit code (README, "Exit codes").
    package var exitCode: Int32 {
        switch self {
        case .retryBudgetSpent, .transport: 75
        case .unauthorized: 77
        case .refused: 76
        case .internalInconsistency: 70
        }
    }
}

/// What the driver must do next. Several may come from one input, in order; the last one
/// always asks for an input (a poll, a wait, a sign-in step) or stops: the machine never
/// leaves the driver without something to do.
package enum ChannelAction: Sendable, Equatable {
    /// GET the request's URL now, then call `pollEnded`.
    case poll(PollRequest)
    /// Sleep, then call `backoffElapsed`.
    case wait(Backoff)
    /// Report a possible gap (a `ucwa.channel.reset` record). `mergedResets`: how many
    /// consecutive `resync` answers this record stands for (1 but after a resync storm).
    /// `replacement`: the application that replaced the lost one; the record names it, and it
    /// is opened after the record (the reset explains the new application, so it goes first).
    case reset(ChannelResetReason, mergedResets: Int, replacement: ApplicationReplacement? = nil)
    /// The application is gone: create a new one, then call `applicationCreated`.
    case createApplication(Recreation)
    /// Get a new token, then call `reauthenticated`.
    case reauthenticate(Reauthentication)
    /// Discover the server again (a new sign-in), then call `rediscovered`.
    case rediscover(Rediscovery)
    /// 409 `PGetReplaced` that this process did not cause: another consumer polls the
    /// application at `url`. Report it clearly (a `wait` follows).
    case anotherConsumer(url: String)
    /// The batch at `url` kept failing to decode; its next href is known: keep it aside
    /// (quarantine) and go on with `next` (a `poll` follows).
    case skipMalformed(url: String, next: String, description: String)
    /// Stop for good.
    case stop(ChannelStop)
}

/// The event channel as an explicit state machine: inputs in, actions out, no sockets or clocks
/// (protocol notes §2; DESIGN.md §4). The state is private; every action carries what the
/// driver needs, and an input that does not fit the state ends the channel with
/// `ChannelStop.internalInconsistency` (exit 70) instead of being dropped.
///
/// - Every URL comes from the server (`events` of the application, then `next`, `resume` or
///   `resync` of each batch), resolved against the URL that served it (or the batch's
///   `baseuri`), and is requested verbatim: `ack` is never computed. The client's `timeout`
///   parameter is added when the URL lacks it, which also re-sends it after `resume`.
/// - `resync` wins over `resume`, which wins over `next` (Microsoft's sample library order);
///   both are reported as resets. Consecutive `resync` answers back off like failures (the
///   first is followed at once); the storm is reported by one more reset record that says how
///   many answers it merged.
/// - 404 on the events resource and 410 `InactiveApplicationExpired` mean a new application;
///   other 410 subcodes (`TooManyApplications`, `UserAgentNotAllowed`) need an operator.
///   403 with a token subcode (`InvalidToken`) means a new token; any other 403 means
///   discovering the server again (notes §1.1), once: a second 403 needs an operator.
///   409 `PGetReplaced` on our only poll means another process polls the same application.
///   401: new token, same URL. Everything else: the same URL after a backoff (`RetryBudget`),
///   until the budget is spent.
/// - The protocol bookkeeping around a poll lives here too, so the driver keeps only I/O
///   handles: each `PollRequest` names the batch it acknowledges, whether to capture its body
///   for the quarantine, and how many events of a partly handed-over body to skip; a reset
///   that follows a new application carries it (`ApplicationReplacement`).
package struct EventChannelMachine: Sendable {
    /// Where a body was partly handed over: the URL and the position after the last event handed.
    struct Delivered: Sendable, Equatable {
        var url: String
        var count: Int
    }

    /// Counters, and notes for the next poll, that live as long as the channel is healthy; a
    /// good batch clears most of them, a new application all of them.
    struct Counters: Sendable, Equatable {
        /// Failed polls in a row (any URL), against the policy.
        var retries: RetryBudget
        /// `resync` answers in a row, against the same policy.
        var resyncs: RetryBudget
        /// Decoding failures of the current batch in a row.
        var malformed = 0
        /// New tokens in a row for 401 (or a 403 token subcode) without a good batch between.
        var tokens = 0
        /// Rediscoveries for 403 without a good batch between.
        var rediscoveries = 0
        /// The batch to acknowledge with the next poll (`PollRequest.completes`).
        var completes: String?
        /// The URL whose last poll failed to decode (its next poll captures the body).
        var lastMalformed: String?
        /// The body partly handed over, not yet complete (`PollRequest.skip`).
        var delivered: Delivered?
    }

    private enum State: Sendable, Equatable {
        case idle
        case polling(url: String, ticket: UInt64, Counters)
        case backingOff(Backoff, Counters)
        case reauthenticating(Reauthentication, Counters)
        case rediscovering(Rediscovery, Counters)
        case recreatingApplication(Recreation, Counters)
        case stopped

        var name: String {
            switch self {
            case .idle: "idle (not started)"
            case .polling(let url, _, _): "polling \(url)"
            case .backingOff(let backoff, _): "backing off before \(backoff.url)"
            case .reauthenticating(let request, _): "getting a new token for \(request.url)"
            case .rediscovering(let request, _): "discovering the server again after 403 at \(request.url)"
            case .recreatingApplication(let request, _): "creating a new application (\(request.reason.rawValue))"
            case .stopped: "stopped"
            }
        }
    }

    private var state: State = .idle
    /// Numbers for tickets: each action that asks for an input gets the next one.
    private var lastTicket: UInt64 = 0
    /// The server-side long-poll `timeout` in seconds (UCWA allows 180–1800).
    let timeoutSeconds: Int
    let policy: RetryPolicy
    /// Consecutive decoding failures of one batch before it is skipped (when its next is known).
    let malformedLimit: Int
    /// New tokens in a row after which a 401 is final.
    let tokenLimit = 3

    /// 403 subcodes that name a token problem: a new token fixes them (issue 15, item 5; the
    /// protocol notes show SfB Online answering a bad token with 403 and
    /// `X-Ms-diagnostics: 28055;…;reason="The OAuth token is invalid."`).
    package static let tokenSubcodes: Set<String> = ["InvalidToken"]

    package init(timeoutSeconds: Int, policy: RetryPolicy = RetryPolicy(), malformedLimit: Int = 3) {
        self.timeoutSeconds = timeoutSeconds
        self.policy = policy
        self.malformedLimit = malformedLimit
    }

    /// The URL actually requested for a server href: the `timeout` parameter added if absent.
    func requestURL(for url: String) -> String {
        Href.queryValue("timeout", in: url) == nil
            ? Href.settingQuery("timeout", to: String(timeoutSeconds), in: url) : url
    }

    private mutating func ticket() -> UInt64 {
        lastTicket &+= 1
        return lastTicket
    }

    private var freshCounters: Counters {
        Counters(
            retries: RetryBudget(policy: policy, operation: "event channel"),
            resyncs: RetryBudget(policy: policy, operation: "event channel (resync answers)")
        )
    }

    /// Starts (or restarts after a checkpoint) at an absolute events URL.
    package mutating func start(eventsURL: String) -> [ChannelAction] {
        guard case .idle = state else { return inconsistent("start(eventsURL: \(eventsURL))") }
        return poll(eventsURL, freshCounters)
    }

    private mutating func poll(_ url: String, _ counters: Counters) -> [ChannelAction] {
        var counters = counters
        let target = requestURL(for: url)
        let number = ticket()
        let request = PollRequest(
            url: target,
            timeoutSeconds: timeoutSeconds,
            completes: counters.completes,
            capture: counters.lastMalformed == target,
            skip: counters.delivered?.url == target ? counters.delivered?.count ?? 0 : 0,
            ticket: number
        )
        counters.completes = nil
        state = .polling(url: target, ticket: number, counters)
        return [.poll(request)]
    }

    /// The poll of `request` ended. `handedOver`: the position after the last event of the body
    /// handed over by this poll (0: none), so that a later poll of the same URL skips them.
    package mutating func pollEnded(
        _ request: PollRequest,
        _ outcome: PollOutcome,
        handedOver: Int,
        random: Double
    ) -> [ChannelAction] {
        guard case .polling(let url, let current, var counters) = state, current == request.ticket else {
            return inconsistent("the end of the poll of \(request.url) (\(outcome))")
        }
        if case .malformed = outcome { counters.lastMalformed = url } else { counters.lastMalformed = nil }
        if handedOver > 0 { counters.delivered = Delivered(url: url, count: handedOver) }
        switch outcome {
        case .batch(let links, let base):
            let base = base ?? url
            func absolute(_ href: String) -> String { Href.resolve(href, against: base) ?? href }
            counters.retries.succeeded()
            counters.malformed = 0
            // The batch is whole: it is acknowledged by the poll that follows it.
            counters.delivered = nil
            counters.completes = url
            if let resync = links.resync {
                if counters.resyncs.failures == 0 {
                    counters.resyncs = RetryBudget(policy: policy, operation: counters.resyncs.operation)
                    _ = counters.resyncs.failed(url: url, reason: "resync", random: random)
                    return [.reset(.resync, mergedResets: 1)] + poll(absolute(resync), counters)
                }
                // A storm: the server keeps answering resync. Back off like failures; the reset
                // record comes when it ends.
                let inARow = counters.resyncs.failures + 1
                switch counters.resyncs.failed(
                    url: url,
                    reason: "resync answered \(inARow) times in a row",
                    random: random
                ) {
                case .spent(let spent):
                    state = .stopped
                    return [.reset(.resync, mergedResets: inARow - 1), .stop(.retryBudgetSpent(spent))]
                case .retry(let delay):
                    let backoff = Backoff(
                        failedURL: url,
                        url: requestURL(for: absolute(resync)),
                        delay: delay,
                        reason: "the server answered resync \(inARow) times in a row",
                        attempt: inARow - 1,
                        ticket: ticket()
                    )
                    state = .backingOff(backoff, counters)
                    return [.wait(backoff)]
                }
            }
            // Anything but resync ends a storm: its merged answers get their reset record.
            let storm = counters.resyncs.failures - 1
            counters.resyncs.succeeded()
            let merged: [ChannelAction] = storm > 0 ? [.reset(.resync, mergedResets: storm)] : []
            counters.tokens = 0
            counters.rediscoveries = 0
            if let resume = links.resume {
                return merged + [.reset(.resume, mergedResets: 1)] + poll(absolute(resume), counters)
            }
            if let next = links.next { return merged + poll(absolute(next), counters) }
            return merged + fail(url, "the batch has no next, resume or resync link", counters, random: random)

        case .malformed(let description, let next):
            counters.malformed += 1
            if counters.malformed >= malformedLimit, let next, let target = Href.resolve(next, against: url) {
                counters.retries.succeeded()
                counters.malformed = 0
                // Skipped: acknowledged by the poll of its next.
                counters.completes = url
                return [.skipMalformed(url: url, next: target, description: description)] + poll(target, counters)
            }
            return fail(url, description, counters, random: random)

        case .status(let status, let subcode, let retryAfter, let error):
            switch (status, subcode) {
            case (401, _):
                return reauthenticate(url, status: status, counters)
            case (403, let subcode?) where Self.tokenSubcodes.contains(subcode):
                return reauthenticate(url, status: status, counters)
            case (403, let subcode):
                guard counters.rediscoveries == 0 else {
                    state = .stopped
                    return [
                        .stop(
                            .refused(
                                url: url,
                                status: 403,
                                subcode: subcode,
                                advice:
                                    "the server forbids this user the event channel even after discovering it again and signing in anew; "
                                    + "ask the server's administrator whether the user may use UCWA from this client (UserAgent=), then systemctl restart"
                            )
                        )
                    ]
                }
                counters.rediscoveries += 1
                let request = Rediscovery(url: url, subcode: subcode, serverError: error, ticket: ticket())
                state = .rediscovering(request, counters)
                return [.rediscover(request)]
            case (404, _):
                return recreate(.applicationNotFound, url, error, counters)
            case (410, "InactiveApplicationExpired"), (410, nil):
                return recreate(.applicationExpired, url, error, counters)
            case (410, let other?):
                state = .stopped
                return [.stop(.refused(url: url, status: 410, subcode: other, advice: Self.goneAdvice(other)))]
            case (409, "PGetReplaced"):
                return [.anotherConsumer(url: url)]
                    + fail(
                        url,
                        "HTTP 409 PGetReplaced: another consumer polls this application",
                        counters,
                        random: random,
                        retryAfter: retryAfter
                    )
            default:
                return fail(
                    url,
                    "HTTP \(status)" + (subcode.map { " \($0)" } ?? ""),
                    counters,
                    random: random,
                    retryAfter: retryAfter
                )
            }

        case .transport(let description, let retryable):
            guard retryable else {
                state = .stopped
                return [.stop(.transport(description))]
            }
            return fail(url, description, counters, random: random)
        }
    }

    /// What an operator does about a 410 that is not an expiry (protocol notes §2.4: "show the
    /// error with subcode and wait for an explicit restart").
    static func goneAdvice(_ subcode: String) -> String {
        switch subcode {
        case "TooManyApplications":
            "the user has too many UCWA applications on the server; sign out other clients of this user (or wait for their applications to expire), then systemctl restart"
        case "UserAgentNotAllowed":
            "the server does not allow this client's user agent; change [Application] UserAgent= or ask the server's administrator to allow it, then systemctl restart"
        default:
            "the server will not keep an application for this client; see the subcode in the UCWA documentation, fix the cause, then systemctl restart"
        }
    }

    private mutating func reauthenticate(_ url: String, status: Int, _ counters: Counters) -> [ChannelAction] {
        var counters = counters
        counters.tokens += 1
        guard counters.tokens <= tokenLimit else {
            state = .stopped
            return [.stop(.unauthorized(url: url, status: status, tokens: counters.tokens - 1))]
        }
        let request = Reauthentication(url: url, status: status, ticket: ticket())
        state = .reauthenticating(request, counters)
        return [.reauthenticate(request)]
    }

    private mutating func recreate(
        _ reason: ChannelResetReason,
        _ url: String,
        _ error: UCWAErrorBody?,
        _ counters: Counters
    ) -> [ChannelAction] {
        let request = Recreation(reason: reason, url: url, serverError: error, ticket: ticket())
        state = .recreatingApplication(request, counters)
        return [.createApplication(request)]
    }

    private mutating func fail(
        _ url: String,
        _ description: String,
        _ counters: Counters,
        random: Double,
        retryAfter: Duration? = nil
    ) -> [ChannelAction] {
        var counters = counters
        switch counters.retries.failed(url: url, reason: description, retryAfter: retryAfter, random: random) {
        case .spent(let spent):
            state = .stopped
            return [.stop(.retryBudgetSpent(spent))]
        case .retry(let delay):
            let backoff = Backoff(
                failedURL: url,
                url: url,
                delay: delay,
                reason: description,
                attempt: counters.retries.failures,
                ticket: ticket()
            )
            state = .backingOff(backoff, counters)
            return [.wait(backoff)]
        }
    }

    /// The wait of `backoff` is over.
    package mutating func backoffElapsed(_ backoff: Backoff) -> [ChannelAction] {
        guard case .backingOff(let current, let counters) = state, current == backoff else {
            return inconsistent("the end of the wait before \(backoff.url)")
        }
        return poll(backoff.url, counters)
    }

    /// A new token is in place after `request`.
    package mutating func reauthenticated(_ request: Reauthentication) -> [ChannelAction] {
        guard case .reauthenticating(let current, let counters) = state, current == request else {
            return inconsistent("a new token for \(request.url)")
        }
        return poll(request.url, counters)
    }

    /// The server was discovered again and signed in to after `request`: `found` is the
    /// application the sign-in gave, `previousApplication` the href of the one polled before.
    /// The same application: the channel goes on at the URL that got the 403. Another one: a
    /// reset that names both, then its first events URL.
    package mutating func rediscovered(
        _ request: Rediscovery,
        found: ApplicationEndpoints,
        previousApplication: String
    ) -> [ChannelAction] {
        guard case .rediscovering(let current, let counters) = state, current == request else {
            return inconsistent("the end of a rediscovery after 403 at \(request.url)")
        }
        guard found.applicationURL != previousApplication else { return poll(request.url, counters) }
        var fresh = freshCounters
        fresh.rediscoveries = counters.rediscoveries
        let replacement = ApplicationReplacement(
            endpoints: found,
            previousApplication: previousApplication,
            serverError: request.serverError
        )
        return [.reset(.applicationReplaced, mergedResets: 1, replacement: replacement)]
            + poll(found.eventsURL, fresh)
    }

    /// A new application exists after `request`: `created` (its events URL absolute) replaces
    /// the application at `previousApplication`.
    package mutating func applicationCreated(
        _ request: Recreation,
        created: ApplicationEndpoints,
        previousApplication: String
    ) -> [ChannelAction] {
        guard case .recreatingApplication(let current, _) = state, current == request else {
            return inconsistent("a new application (\(request.reason.rawValue), events at \(created.eventsURL))")
        }
        let replacement = ApplicationReplacement(
            endpoints: created,
            previousApplication: previousApplication,
            serverError: request.serverError
        )
        return [.reset(request.reason, mergedResets: 1, replacement: replacement)]
            + poll(created.eventsURL, freshCounters)
    }

    /// The input does not fit the state: stop, naming both.
    private mutating func inconsistent(_ input: String) -> [ChannelAction] {
        let name = state.name
        state = .stopped
        return [.stop(.internalInconsistency(state: name, input: input))]
    }
}
