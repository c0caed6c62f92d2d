import CurlHTTP
import Logging
import UCWA

/// Resolves invitation events to their resources: the `_embedded` one when present, else
/// `GET link.href` (resolved against the batch's base), at most `concurrency` GETs at a time,
/// results handed on in event order. 404/410 → `gone` with the last state seen for that href;
/// other failures retried `attempts` times → `failed`. A failed GET never stops the channel.
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
    public let attempts: Int
    public var retryDelay: Duration
    private var queue: [Slot] = []
    private var inFlight = 0
    /// The current batch's base URL, parsed once.
    private var base: Href.Base?
    /// The last resource seen per href and the base its hrefs resolve against, for `gone`;
    /// dropped when the invitation completes.
    private var lastSeen: [String: (resource: InvitationResource, base: String)] = [:]
    /// Most hrefs remembered in `lastSeen` (open invitations of one account: a few at a time).
    public var lastSeenLimit = 10_000

    public init(session: Session, concurrency: Int, attempts: Int = 3, retryDelay: Duration = .milliseconds(200), logger: Logger) {
        self.session = session
        self.concurrency = max(1, concurrency)
        self.attempts = max(1, attempts)
        self.retryDelay = retryDelay
        self.logger = logger
    }

    /// Takes the next event; returns the events now resolved, in order (possibly none, when
    /// GETs are still running and the window is not full). `baseURL` resolves the event's
    /// relative hrefs; `fetch` says whether its record needs the resource at all (an event
    /// whose record does not read it costs no GET).
    public mutating func submit(_ event: UCWAEvent, baseURL: String, fetch: Bool = true) async -> [ResolvedEvent] {
        let rel = event.link.rel
        guard UCWARel.isInvitation(rel) else {
            queue.append(.ready(ResolvedEvent(event: event, href: "", resource: nil, resolution: .none, base: baseURL)))
            return await take()
        }
        if base?.url != baseURL { base = Href.Base(baseURL) }
        let href = base?.resolve(event.link.href.string) ?? event.link.href.string
        if let embedded = event.invitation {
            queue.append(.ready(ResolvedEvent(event: event, href: href, resource: embedded, resolution: .embedded, base: baseURL)))
            return await take()
        }
        guard fetch else {
            queue.append(.ready(ResolvedEvent(event: event, href: href, resource: nil, resolution: .none, base: baseURL)))
            return await take()
        }
        // Room for one more GET: wait for the oldest ones (the head of the queue) first.
        var out: [ResolvedEvent] = []
        while inFlight >= concurrency {
            out.append(await popFirst())
            out += await take()
        }
        let session = self.session
        let attempts = self.attempts
        let retryDelay = self.retryDelay
        let logger = self.logger
        inFlight += 1
        // On the HTTP client's thread, like the channel (an unstructured task does not inherit
        // the preference).
        queue.append(.fetching(Task(executorPreference: session.client.taskExecutor) {
            await Self.fetch(event, href: href, session: session, attempts: attempts, retryDelay: retryDelay, logger: logger)
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
            resolved = await task.value
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
            if let seen = lastSeen[resolved.href] {
                resolved.resource = seen.resource
                resolved.base = seen.base
            }
        case .embedded, .fetched:
            if let resource = resolved.resource {
                if lastSeen.count >= lastSeenLimit, lastSeen[resolved.href] == nil { lastSeen.removeAll() }
                lastSeen[resolved.href] = (resource, resolved.base)
            }
        case .failed, .none:
            break
        }
        if resolved.event.type == .completed { lastSeen[resolved.href] = nil }
    }

    private static func fetch(_ event: UCWAEvent, href: String, session: Session, attempts: Int, retryDelay: Duration, logger: Logger) async -> ResolvedEvent {
        var failure = ""
        for attempt in 1...attempts {
            do {
                let response = try await session.send(HTTPRequest(url: href, headers: Session.accept))
                switch response.status {
                case 200..<300:
                    do {
                        let resource = try InvitationResource.decode(response.body)
                        // The resource's relative hrefs resolve against the URL it came from.
                        return ResolvedEvent(event: event, href: href, resource: resource, resolution: .fetched, base: href)
                    } catch {
                        failure = "\(href): the resource is not valid JSON: \(error)"
                    }
                case 404, 410:
                    return ResolvedEvent(event: event, href: href, resource: nil, resolution: .gone)
                default:
                    failure = "\(href): HTTP \(response.status)"
                    if (400..<500).contains(response.status) && response.status != 429 && response.status != 408 {
                        return Self.failed(event, href: href, failure, logger: logger)
                    }
                }
            } catch is CancellationError {
                return ResolvedEvent(event: event, href: href, resource: nil, resolution: .failed)
            } catch {
                failure = "\(error)"
            }
            if attempt < attempts {
                try? await Task.sleep(for: retryDelay * (1 << (attempt - 1)))
            }
        }
        return Self.failed(event, href: href, failure, logger: logger)
    }

    private static func failed(_ event: UCWAEvent, href: String, _ failure: String, logger: Logger) -> ResolvedEvent {
        logger.warning("cannot resolve invitation", metadata: ["href": "\(href)", "error": "\(failure)"])
        return ResolvedEvent(event: event, href: href, resource: nil, resolution: .failed)
    }
}
