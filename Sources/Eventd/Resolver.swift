import CurlHTTP
import Logging
import UCWA

/// Resolves invitation events to their resources: the `_embedded` one when present, else
/// `GET link.href` (resolved against the batch's base), at most `concurrency` GETs at a time,
/// results handed on in event order. 404/410 → `gone` with the last state seen for that href;
/// transport errors, 408, 429 and 5xx are retried by the daemon's one retry mechanism
/// (`RetryBudget` over `policy`, honouring `Retry-After`) and become `failed` when the budget is
/// spent (logged as `RetryBudgetSpent`); other statuses are `failed` at once. A failed GET never
/// stops the channel.
public struct Resolver {
    private enum Slot {
        case ready(ResolvedEvent)
        case fetching(Task<ResolvedEvent, Never>)

        var isReady: Bool {
            if case .ready = self { return true }
            return false
        }
    }

    private let session: Session
    private let logger: Logger
    public let concurrency: Int
    /// The resolver's retry policy: short, so that a GET that keeps failing holds its batch
    /// for seconds, not for the channel's hour.
    public let policy: RetryPolicy
    private var queue: [Slot] = []
    private var inFlight = 0
    /// The current batch's base URL, parsed once.
    private var base: Href.Base?
    /// The last resource seen per href, for `gone`; dropped when the invitation completes.
    private var lastSeen: [String: InvitationResource] = [:]
    /// Most hrefs remembered in `lastSeen` (open invitations of one account: a few at a time).
    public var lastSeenLimit = 10_000

    /// Three tries 200 ms and 400 ms apart (±25 %), a `Retry-After` honoured up to 10 s.
    public static let defaultPolicy = RetryPolicy(
        initialDelay: .milliseconds(200), maximumDelay: .seconds(2), jitter: 0.25, maximumRetryAfter: .seconds(10), maximumAttempts: 2)

    public init(session: Session, concurrency: Int, policy: RetryPolicy = Resolver.defaultPolicy, logger: Logger) {
        self.session = session
        self.concurrency = max(1, concurrency)
        self.policy = policy
        self.logger = logger
    }

    /// Takes the next event; returns the events now resolved, in order (possibly none, when
    /// GETs are still running and the window is not full).
    public mutating func submit(_ event: UCWAEvent, baseURL: String) async -> [ResolvedEvent] {
        let rel = event.link.rel
        guard UCWARel.isInvitation(rel) else {
            queue.append(.ready(ResolvedEvent(event: event, href: "", resource: nil, resolution: .none)))
            return await take()
        }
        if base?.url != baseURL { base = Href.Base(baseURL) }
        let href = base?.resolve(event.link.href.string) ?? event.link.href.string
        if let embedded = event.invitation {
            queue.append(.ready(ResolvedEvent(event: event, href: href, resource: embedded, resolution: .embedded)))
            return await take()
        }
        // Room for one more GET: wait for the oldest ones (the head of the queue) first.
        var out: [ResolvedEvent] = []
        while inFlight >= concurrency {
            out.append(await popFirst())
            out += await take()
        }
        let session = self.session
        let policy = self.policy
        let logger = self.logger
        inFlight += 1
        // On the HTTP client's thread, like the channel (an unstructured task does not inherit
        // the preference).
        queue.append(.fetching(Task(executorPreference: session.client.taskExecutor) {
            await Self.fetch(event, href: href, session: session, policy: policy, logger: logger)
        }))
        return out + (await take())
    }

    /// Waits for every GET still running; returns the rest, in order.
    public mutating func drain() async -> [ResolvedEvent] {
        var out: [ResolvedEvent] = []
        while !queue.isEmpty {
            out.append(await popFirst())
        }
        return out
    }

    /// Forgets the last-seen states (after `resync`: transient caches are void).
    public mutating func forgetStates() {
        lastSeen.removeAll()
    }

    /// Pops the events at the head that need no waiting.
    private mutating func take() async -> [ResolvedEvent] {
        var out: [ResolvedEvent] = []
        // Tested in place: binding `queue.first` copied the whole resolved event (a retain and a
        // release of each of its texts) only to look at its case.
        while !queue.isEmpty && queue[0].isReady {
            out.append(await popFirst())
        }
        return out
    }

    private mutating func popFirst() async -> ResolvedEvent {
        var resolved: ResolvedEvent
        switch queue.removeFirst() {
        case .ready(let event):
            resolved = event
        case .fetching(let task):
            // A stop cancels the channel's task: the GET is cancelled with it (an unstructured
            // task does not inherit cancellation), so that the stop does not wait for it.
            resolved = await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
            inFlight -= 1
        }
        remember(&resolved)
        return resolved
    }

    /// Keeps the last state per href, and fills in a gone resource from it.
    private mutating func remember(_ resolved: inout ResolvedEvent) {
        guard !resolved.href.isEmpty else { return }
        switch resolved.resolution {
        case .gone:
            resolved.resource = lastSeen[resolved.href]
        case .embedded, .fetched:
            if let resource = resolved.resource {
                if lastSeen.count >= lastSeenLimit, lastSeen[resolved.href] == nil { lastSeen.removeAll() }
                lastSeen[resolved.href] = resource
            }
        case .failed, .none:
            break
        }
        if resolved.event.type == .completed { lastSeen[resolved.href] = nil }
    }

    private static func fetch(_ event: UCWAEvent, href: String, session: Session, policy: RetryPolicy, logger: Logger) async -> ResolvedEvent {
        var budget = RetryBudget(policy: policy, operation: "invitation GET")
        while true {
            let failure: String
            var retryAfter: Duration?
            do {
                let response = try await session.send(HTTPRequest(url: href, headers: Session.accept))
                switch response.status {
                case 200..<300:
                    do {
                        let resource = try InvitationResource.decode(response.body)
                        return ResolvedEvent(event: event, href: href, resource: resource, resolution: .fetched)
                    } catch {
                        failure = "the resource is not valid JSON: \(error)"
                    }
                case 404, 410:
                    return ResolvedEvent(event: event, href: href, resource: nil, resolution: .gone)
                case 408, 429, 500...:
                    failure = "HTTP \(response.status)"
                    retryAfter = RetryAfter.parse(response.headerValue("Retry-After"), now: WallClock.secondsSince1970())
                default:
                    return Self.failed(event, href: href, "\(href): HTTP \(response.status)", logger: logger)
                }
            } catch is CancellationError {
                return ResolvedEvent(event: event, href: href, resource: nil, resolution: .failed)
            } catch {
                failure = "\(error)"
            }
            switch budget.failed(url: href, reason: failure, retryAfter: retryAfter, random: Double.random(in: 0..<1)) {
            case .spent(let spent):
                return Self.failed(event, href: href, "\(spent)", logger: logger)
            case .retry(let delay):
                logger.debug("invitation GET failed, retrying", metadata: ["href": "\(href)", "reason": "\(failure)", "delay": "\(delay)"])
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    return ResolvedEvent(event: event, href: href, resource: nil, resolution: .failed)
                }
            }
        }
    }

    private static func failed(_ event: UCWAEvent, href: String, _ failure: String, logger: Logger) -> ResolvedEvent {
        logger.warning("cannot resolve invitation", metadata: ["href": "\(href)", "error": "\(failure)"])
        return ResolvedEvent(event: event, href: href, resource: nil, resolution: .failed)
    }
}
