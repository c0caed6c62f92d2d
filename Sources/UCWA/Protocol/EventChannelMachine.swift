/// Why events may have been lost or replayed: each becomes a `ucwa.channel.reset` record.
public enum ChannelResetReason: String, Sendable, Hashable {
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
}

/// How one long poll ended, as the driver reports it to `EventChannelMachine`.
public enum PollOutcome: Sendable, Equatable {
    /// A complete, valid batch and the links it carried (hrefs as sent).
    case batch(next: String?, resume: String?, resync: String?, baseURI: String? = nil)
    /// The body was not a valid batch; `next` is the next href if the decoder saw it first.
    case malformed(description: String, next: String?)
    /// A status other than 2xx, with the UCWA error subcode and the `Retry-After` delay.
    case status(Int, subcode: String?, retryAfter: Duration?)
    /// The transfer itself failed.
    case transport(description: String, retryable: Bool)
}

/// What the driver must do next. Several may come from one input, in order.
public enum ChannelAction: Sendable, Equatable {
    /// GET this absolute URL now.
    case poll(String)
    /// Sleep this long, then call `backoffElapsed()`.
    case wait(Duration, reason: String)
    /// Report a possible gap (a `ucwa.channel.reset` record).
    case reset(ChannelResetReason)
    /// The application is gone: create a new one, then call `applicationCreated(eventsURL:)`.
    case createApplication(ChannelResetReason)
    /// Get a new token, then call `reauthenticated()`.
    case reauthenticate
    /// 409 `PGetReplaced` that this process did not cause: another consumer is using the same
    /// application. Report it clearly (a `wait` follows).
    case anotherConsumer
    /// The batch at `url` kept failing to decode; its next href is known: keep it aside
    /// (quarantine) and go on with `next` (a `poll` follows).
    case skipMalformed(url: String, next: String, description: String)
    /// Stop: the retry budget ran out, or the failure is not one that waiting can fix.
    case giveUp(String)
}

/// The event channel as an explicit state machine: inputs in, actions out, no sockets or clocks
/// (protocol notes §2; DESIGN.md §4).
///
/// - Every URL comes from the server (`events` of the application, then `next`, `resume` or
///   `resync` of each batch), resolved against the URL that served it (or the batch's
///   `baseuri`), and is requested verbatim: `ack` is never computed. The client's `timeout`
///   parameter is added when the URL lacks it, which also re-sends it after `resume`.
/// - `resync` wins over `resume`, which wins over `next` (Microsoft's sample library order);
///   both are reported as resets.
/// - 404 on the events resource and 410 `InactiveApplicationExpired` mean a new application;
///   other 410 subcodes (`TooManyApplications`, `UserAgentNotAllowed`) cannot be fixed by
///   retrying. 409 `PGetReplaced` on our only poll means another process polls the same
///   application. 401: new token, same URL. Everything else: the same URL after a backoff
///   (`RetryPolicy`), until the budget runs out.
public struct EventChannelMachine: Sendable {
    public enum State: Sendable, Equatable {
        case idle
        case polling(url: String)
        case backingOff(url: String)
        case reauthenticating(url: String)
        case recreatingApplication
        case stopped
    }

    public private(set) var state: State = .idle
    /// The server-side long-poll `timeout` in seconds (UCWA allows 180–1800).
    public let timeoutSeconds: Int
    public var policy: RetryPolicy
    /// Consecutive decoding failures of one batch before it is skipped (when its next is known).
    public var malformedLimit: Int

    /// Consecutive failed polls of the current URL.
    public private(set) var failures = 0
    private var malformed = 0
    private var unauthorized = 0

    public init(timeoutSeconds: Int, policy: RetryPolicy = RetryPolicy(), malformedLimit: Int = 3) {
        self.timeoutSeconds = timeoutSeconds
        self.policy = policy
        self.malformedLimit = malformedLimit
    }

    /// The URL actually requested for a server href: the `timeout` parameter added if absent.
    public func requestURL(for url: String) -> String {
        Href.queryValue("timeout", in: url) == nil ? Href.settingQuery("timeout", to: String(timeoutSeconds), in: url) : url
    }

    /// Starts (or restarts after a checkpoint) at an absolute events URL.
    public mutating func start(eventsURL: String) -> [ChannelAction] {
        failures = 0
        malformed = 0
        return poll(eventsURL)
    }

    private mutating func poll(_ url: String) -> [ChannelAction] {
        let target = requestURL(for: url)
        state = .polling(url: target)
        return [.poll(target)]
    }

    /// The poll started by the last `.poll` action ended.
    public mutating func pollEnded(_ outcome: PollOutcome, random: Double) -> [ChannelAction] {
        guard case .polling(let url) = state else { return [] }
        switch outcome {
        case .batch(let next, let resume, let resync, let baseURI):
            let base = baseURI.flatMap { Href.resolve($0, against: url) } ?? url
            func absolute(_ href: String) -> String { Href.resolve(href, against: base) ?? href }
            failures = 0
            malformed = 0
            unauthorized = 0
            if let resync { return [.reset(.resync)] + poll(absolute(resync)) }
            if let resume { return [.reset(.resume)] + poll(absolute(resume)) }
            if let next { return poll(absolute(next)) }
            return fail(url, "the batch has no next, resume or resync link", random: random)

        case .malformed(let description, let next):
            malformed += 1
            if malformed >= malformedLimit, let next, let target = Href.resolve(next, against: url) {
                failures = 0
                malformed = 0
                return [.skipMalformed(url: url, next: target, description: description)] + poll(target)
            }
            return fail(url, description, random: random)

        case .status(let status, let subcode, let retryAfter):
            switch (status, subcode) {
            case (401, _):
                unauthorized += 1
                if unauthorized > 3 {
                    state = .stopped
                    return [.giveUp("\(url): HTTP 401 again after \(unauthorized - 1) new tokens")]
                }
                state = .reauthenticating(url: url)
                return [.reauthenticate]
            case (404, _):
                state = .recreatingApplication
                return [.createApplication(.applicationNotFound)]
            case (410, "InactiveApplicationExpired"), (410, nil):
                state = .recreatingApplication
                return [.createApplication(.applicationExpired)]
            case (410, let other?):
                state = .stopped
                return [.giveUp("\(url): HTTP 410 \(other): the server will not keep an application for this client")]
            case (409, "PGetReplaced"):
                return [.anotherConsumer] + fail(url, "HTTP 409 PGetReplaced: another consumer polls this application", random: random, retryAfter: retryAfter)
            default:
                return fail(url, "HTTP \(status)" + (subcode.map { " \($0)" } ?? ""), random: random, retryAfter: retryAfter)
            }

        case .transport(let description, let retryable):
            guard retryable else {
                state = .stopped
                return [.giveUp(description)]
            }
            return fail(url, description, random: random)
        }
    }

    private mutating func fail(_ url: String, _ description: String, random: Double, retryAfter: Duration? = nil) -> [ChannelAction] {
        failures += 1
        guard policy.allows(attempt: failures) else {
            state = .stopped
            return [.giveUp("\(url): \(description); gave up after \(failures) attempts")]
        }
        state = .backingOff(url: url)
        return [.wait(policy.delay(attempt: failures, retryAfter: retryAfter, random: random), reason: description)]
    }

    /// The wait of the last `.wait` action is over.
    public mutating func backoffElapsed() -> [ChannelAction] {
        guard case .backingOff(let url) = state else { return [] }
        state = .polling(url: url)
        return [.poll(url)]
    }

    /// A new token is in place after `.reauthenticate`.
    public mutating func reauthenticated() -> [ChannelAction] {
        guard case .reauthenticating(let url) = state else { return [] }
        state = .polling(url: url)
        return [.poll(url)]
    }

    /// A new application exists after `.createApplication`: its events URL, absolute.
    public mutating func applicationCreated(eventsURL: String, reason: ChannelResetReason) -> [ChannelAction] {
        guard state == .recreatingApplication else { return [] }
        failures = 0
        malformed = 0
        unauthorized = 0
        return [.reset(reason)] + poll(eventsURL)
    }

    public mutating func stop() {
        state = .stopped
    }
}
