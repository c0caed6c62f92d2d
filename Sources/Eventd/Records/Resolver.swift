import CurlHTTP
import Locking
import Logging
import StreamingJSON
import UCWA

/// Resolves invitation events to their resources: the `_embedded` one when present, else
/// `GET link.href` (resolved against the batch's base), at most `concurrency` GETs at a time,
/// results handed on in event order. 404/410 → `gone` with the last state seen for that href;
/// transport errors, 408, 429 and 5xx are retried by the daemon's one retry mechanism
/// (`RetryBudget` over `policy`, honouring `Retry-After`) and become `failed` when the budget is
/// spent (logged as `RetryBudgetSpent`); other statuses are `failed` at once. A failed GET never
/// stops the channel.
///
/// With `resolvePeople` (`[Events] ResolvePeople=yes`), the people an invitation links to without
/// a name — `from`, `to`, `acceptedByParticipant` — are fetched too (a participant or contact
/// resource: its `name` and `uri`), one GET per href, remembered (`PeopleDirectory`).
struct Resolver {
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
    let concurrency: Int
    /// The resolver's retry policy: short, so that a GET that keeps failing holds its batch
    /// for seconds, not for the channel's hour.
    let policy: RetryPolicy
    private var queue: [Slot] = []
    private var inFlight = 0
    /// What the batch itself says about each event (hrefs, embedded resources).
    private var fromBody = EmbeddedResolver()
    /// The last resource seen per href and the base its hrefs resolve against, for `gone`;
    /// dropped when the invitation completes. Memory of this run only: not persisted (what
    /// survives a restart is `PersistedState`'s), so a `gone` after a restart has no state.
    private var lastSeen: [String: (resource: InvitationResource, base: String)] = [:]
    /// Most hrefs remembered in `lastSeen` (open invitations of one account: a few at a time).
    var lastSeenLimit = 10_000
    /// Fetch the names of linked people (off by default: a GET per person not seen before).
    var resolvePeople: Bool
    /// The people fetched so far, shared by the resolving tasks.
    private let people = PeopleDirectory()

    /// Three tries 200 ms and 400 ms apart (±25 %), a `Retry-After` honoured up to 10 s.
    static let defaultPolicy = RetryPolicy(
        initialDelay: .milliseconds(200),
        maximumDelay: .seconds(2),
        jitter: 0.25,
        maximumRetryAfter: .seconds(10),
        maximumAttempts: 2
    )

    init(
        session: Session,
        concurrency: Int,
        policy: RetryPolicy = Resolver.defaultPolicy,
        resolvePeople: Bool = false,
        logger: Logger
    ) {
        self.session = session
        self.concurrency = max(1, concurrency)
        self.policy = policy
        self.resolvePeople = resolvePeople
        self.logger = logger
    }

    /// Takes the next event; returns the events now resolved, in order (possibly none, when
    /// GETs are still running and the window is not full). `baseURL` resolves the event's
    /// relative hrefs; `fetch` says whether its record needs the resource at all (an event
    /// whose record does not read it costs no GET).
    mutating func submit(_ event: UCWAEvent, baseURL: String, fetch: Bool = true) async -> [ResolvedEvent] {
        var resolved = fromBody.resolve(event, baseURL: baseURL)
        switch resolved.resolution {
        case .embedded:
            if fetch, resolvePeople, !Self.fillKnownPeople(&resolved, from: people).isEmpty {
                let partial = resolved
                let people = self.people
                return await enqueueFetch { session, _, logger in
                    await Self.fetchPeople(partial, directory: people, session: session, logger: logger)
                }
            }
        case .none where fetch && UCWARel.isInvitation(event.link.rel):
            let href = resolved.href
            let people = resolvePeople ? self.people : nil
            return await enqueueFetch { session, policy, logger in
                let resolved = await Self.fetch(event, href: href, session: session, policy: policy, logger: logger)
                guard let people else { return resolved }
                return await Self.fetchPeople(resolved, directory: people, session: session, logger: logger)
            }
        default:
            break
        }
        queue.append(.ready(resolved))
        return await take()
    }

    /// Queues a task that resolves one event with GETs, once the window has room.
    private mutating func enqueueFetch(
        _ work: @escaping @Sendable (Session, RetryPolicy, Logger) async -> ResolvedEvent
    ) async -> [ResolvedEvent] {
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
        queue.append(
            .fetching(
                Task(executorPreference: session.client.taskExecutor) {
                    await work(session, policy, logger)
                }
            )
        )
        return out + (await take())
    }

    /// Fills in what is known of the people the resource links to without a name (or uri);
    /// returns the absolute hrefs of those still unknown (a GET each is needed).
    private static func fillKnownPeople(_ resolved: inout ResolvedEvent, from known: PeopleDirectory) -> [String] {
        guard var resource = resolved.resource else { return [] }
        let base = Href.Base(resolved.base.isEmpty ? resolved.href : resolved.base)
        var missing: [String] = []
        func lookUp(_ href: UCWAText?, needed: Bool, apply: (Person, inout InvitationResource) -> Void) {
            guard needed, let href = href.nonEmpty, let absolute = base.resolve(href) else { return }
            if let person = known.known(absolute) { apply(person, &resource) } else { missing.append(absolute) }
        }
        lookUp(resource.fromHref, needed: resource.inviterName == nil || resource.fromURI.nonEmpty == nil) {
            person,
            resource in
            if resource.inviterName == nil, let name = person.name { resource.fromName = UCWAText(name) }
            if resource.fromURI.nonEmpty == nil, let uri = person.uri { resource.fromURI = UCWAText(uri) }
        }
        lookUp(resource.toHref, needed: resource.toTitle.nonEmpty == nil) { person, resource in
            if let name = person.name { resource.toTitle = UCWAText(name) }
            if resource.to.nonEmpty == nil, let uri = person.uri { resource.to = UCWAText(uri) }
        }
        lookUp(resource.acceptedByHref, needed: resource.acceptorName == nil || resource.acceptedByURI.nonEmpty == nil)
        { person, resource in
            if resource.acceptorName == nil, let name = person.name { resource.acceptedByName = UCWAText(name) }
            if resource.acceptedByURI.nonEmpty == nil, let uri = person.uri { resource.acceptedByURI = UCWAText(uri) }
        }
        resolved.resource = resource
        return missing
    }

    /// GETs the people the resource links to without a name (each href once for the whole
    /// run: tasks share the directory's GETs in flight), fills them in.
    private static func fetchPeople(
        _ resolved: ResolvedEvent,
        directory: PeopleDirectory,
        session: Session,
        logger: Logger
    ) async -> ResolvedEvent {
        var filled = resolved
        let missing = fillKnownPeople(&filled, from: directory)
        guard !missing.isEmpty else { return filled }
        for href in Set(missing) {
            _ = await directory.person(href) { await fetchPerson(href, session: session, logger: logger) }
        }
        _ = fillKnownPeople(&filled, from: directory)
        return filled
    }

    /// One participant or contact resource: its `name` and `uri` (empty ones count as absent).
    /// A failure is logged and remembered as nobody, so the same href is not asked again.
    private static func fetchPerson(_ href: String, session: Session, logger: Logger) async -> Person {
        do {
            let response = try await session.send(CurlRequest(url: href, headers: Session.accept))
            guard (200..<300).contains(response.status) else {
                logger.debug("cannot resolve a person", metadata: ["href": "\(href)", "status": "\(response.status)"])
                return Person()
            }
            let document = try JSONValue.parse(response.body)
            let name = document["name"]?.stringValue ?? document["displayName"]?.stringValue
            let uri = document["uri"]?.stringValue
            return Person(name: name?.isEmpty == false ? name : nil, uri: uri?.isEmpty == false ? uri : nil)
        } catch {
            logger.debug("cannot resolve a person", metadata: ["href": "\(href)", "error": "\(error)"])
            return Person()
        }
    }

    /// Waits for every GET still running; returns the rest, in order.
    mutating func drain() async -> [ResolvedEvent] {
        var out: [ResolvedEvent] = []
        while !queue.isEmpty {
            out.append(await popFirst())
        }
        return out
    }

    /// Forgets the last-seen states (after `resync`: transient caches are void).
    mutating func forgetStates() {
        lastSeen.removeAll()
        people.forget()
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
            resolved = await withTaskCancellationHandler {
                await task.value
            } onCancel: {
                task.cancel()
            }
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

    private static func fetch(
        _ event: UCWAEvent,
        href: String,
        session: Session,
        policy: RetryPolicy,
        logger: Logger
    ) async -> ResolvedEvent {
        var budget = RetryBudget(policy: policy, operation: "invitation GET")
        while true {
            let failure: String
            var retryAfter: Duration?
            do {
                let response = try await session.send(CurlRequest(url: href, headers: Session.accept))
                switch response.status {
                case 200..<300:
                    do {
                        let resource = try InvitationResource.decode(response.body)
                        // The resource's relative hrefs resolve against the URL it came from.
                        return ResolvedEvent(
                            event: event,
                            href: href,
                            resource: resource,
                            resolution: .fetched,
                            base: href
                        )
                    } catch {
                        failure = "the resource is not valid JSON: \(error)"
                    }
                case 404, 410:
                    return ResolvedEvent(event: event, href: href, resource: nil, resolution: .gone)
                case 408, 429, 500...:
                    failure = "HTTP \(response.status)"
                    retryAfter = RetryAfter.parse(
                        response.headerValue("Retry-After"),
                        now: WallClock.secondsSince1970()
                    )
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
                logger.debug(
                    "invitation GET failed, retrying",
                    metadata: ["href": "\(href)", "reason": "\(failure)", "delay": "\(delay)"]
                )
                do {
                    try await session.clock.sleep(for: delay)
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

/// A participant or contact as the records need it.
struct Person: Sendable {
    var name: String?
    var uri: String?
}

/// The people the resolver fetched, by absolute href, shared by its tasks: one GET per href
/// (a second asker awaits the first GET), results kept until `forget()` or `limit` entries.
final class PeopleDirectory: Sendable {
    private struct State {
        var pending: [String: Task<Person, Never>] = [:]
        var known: [String: Person] = [:]
    }

    private let state = Locked(State())
    let limit: Int

    init(limit: Int = 10_000) {
        self.limit = limit
    }

    /// What the GET of `href` said, when it is over.
    func known(_ href: String) -> Person? {
        state.withLock { $0.known[href] }
    }

    /// The person at `href`: known, or awaited from the GET in flight, or fetched now.
    func person(_ href: String, fetch: @escaping @Sendable () async -> Person) async -> Person {
        let task = state.withLock { state -> Task<Person, Never> in
            if let known = state.known[href] { return Task { known } }
            if let pending = state.pending[href] { return pending }
            let task = Task { await fetch() }
            state.pending[href] = task
            return task
        }
        let person = await task.value
        state.withLock { state in
            state.pending[href] = nil
            if state.known.count >= limit { state.known.removeAll() }
            state.known[href] = person
        }
        return person
    }

    func forget() {
        state.withLock { $0.known.removeAll() }
    }
}
