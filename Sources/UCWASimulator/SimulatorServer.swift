import NIOCore
import NIOHTTP1
import StreamingJSON

/// The simulated UCWA server's state, its faults and its request routing. Confined to one event
/// loop: every method runs on `loop` (the NIO handlers call it there; `UCWASimulator` hops onto
/// it). The routes' handlers are extensions by job: sign-in (`+SignIn`), applications
/// (`+Applications`), the event channel (`+EventChannel`), invitations and their events
/// (`+Invitations`) and people (`+People`).
final class SimulatorServer: @unchecked Sendable {
    /// A batch that was sent and not yet acknowledged: re-sent verbatim when asked for again.
    struct SentBatch {
        var body: [UInt8]
        var eventCount: Int
        var sends = 1
    }

    struct ParkedPoll {
        var responder: Responder
        var channel: ObjectIdentifier
        var timer: Scheduled<Void>?
    }

    /// Confined to the server's loop like the server itself.
    final class Application: @unchecked Sendable {
        let id: Int
        let pool: String
        let endpointID: String
        let userAgent: String
        let culture: String
        var queue = EventQueue()
        var sent: [Int: SentBatch] = [:]
        var nextBatch = 1
        var parked: ParkedPoll?
        var gone = false
        /// Hostile batches by ack number, sent again until acknowledged.
        var hostile: [Int: HostileBody] = [:]
        /// The long-poll `timeout` last sent by the client (the server remembers it).
        var timeoutSeconds = 180

        init(id: Int, pool: String, endpointID: String, userAgent: String, culture: String) {
            self.id = id
            self.pool = pool
            self.endpointID = endpointID
            self.userAgent = userAgent
            self.culture = culture
        }

        var path: String { "\(pool)/ucwa/oauth/v1/applications/\(id)" }
        func eventsHref(ack: Int) -> String { "\(path)/events?ack=\(ack)" }
    }

    struct Token {
        var pool: String
        var expires: NIODeadline
    }

    let loop: any EventLoop
    var options: SimulatorOptions
    var baseURL = ""
    var stats = SimulatorStats()
    private var faults: [SimulatorFault] = []
    var tokens: [String: Token] = [:]
    var applications: [Int: Application] = [:]
    var nextApplicationID = 101
    var invitations: [Int: SimulatedInvitation] = [:]
    var nextInvitationID = 1
    /// Events queued while no application is alive; the next application gets them.
    var unassigned: [QueuedEvent] = []

    init(loop: any EventLoop, options: SimulatorOptions) {
        self.loop = loop
        self.options = options
    }

    // MARK: Control

    func inject(_ fault: SimulatorFault) {
        switch fault {
        case .revokeTokens:
            tokens.removeAll()
        case .resyncStorm:
            options.resyncEveryPoll = true
            // A parked poll learns it at once.
            if let application = liveApplication, let parked = application.parked {
                parked.timer?.cancel()
                application.parked = nil
                let body = SimulatorDocuments.object([
                    (
                        "_links",
                        SimulatorDocuments.links([("resync", application.eventsHref(ack: application.nextBatch))])
                    )
                ])
                parked.responder.send(status: 200, body: SimulatorDocuments.bytes(body))
            }
        case .applicationGone, .applicationExpired:
            // The server drops the application now: a parked poll learns it at once; otherwise
            // the next events GET does.
            if let application = liveApplication, let parked = application.parked {
                retire(application)
                if fault == .applicationGone {
                    parked.responder.send(
                        status: 404,
                        body: SimulatorDocuments.error(
                            code: "NotFound",
                            subcode: "ApplicationNotFound",
                            message:
                                "An error occurred. Please retry. If the problem persists, contact your support team."
                        )
                    )
                } else {
                    parked.responder.send(
                        status: 410,
                        body: SimulatorDocuments.error(
                            code: "Gone",
                            subcode: "InactiveApplicationExpired",
                            message: "The application expired."
                        )
                    )
                }
            } else {
                faults.append(fault)
            }
        default:
            faults.append(fault)
        }
    }

    func takeFault(where matches: (SimulatorFault) -> Bool) -> SimulatorFault? {
        guard let index = faults.firstIndex(where: matches) else { return nil }
        return faults.remove(at: index)
    }

    /// A rel name, with the `ms:rtc:saas:` prefix when the options ask for prefixed rels.
    func rel(_ name: String) -> String { options.prefixedRels ? "ms:rtc:saas:" + name : name }

    /// The newest application that is not gone.
    var liveApplication: Application? {
        applications.values.filter { !$0.gone }.max { $0.id < $1.id }
    }

    // MARK: Routing

    func connectionClosed(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        for application in applications.values where application.parked?.channel == id {
            application.parked?.timer?.cancel()
            application.parked = nil
        }
    }

    func handle(_ request: SimulatorRequest, responder: Responder) {
        if options.recordRequests {
            stats.requests.append("\(request.method.rawValue) \(request.uri)")
        }
        var path = request.path
        var pool = ""
        if path.hasPrefix("/pool2/") {
            pool = "/pool2"
            path = path.dropFirst(pool.count)
        }
        let lowered = path.lowercased()
        if let route = Self.route(request.method, lowered),
            case .answer(_, let status, let subcode, let retryAfter)? = takeFault(where: {
                if case .answer(route, _, _, _) = $0 { true } else { false }
            })
        {
            let code =
                [
                    401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict", 410: "Gone",
                    429: "TooManyRequests", 503: "ServiceUnavailable",
                ][status] ?? "ServiceFailure"
            responder.send(
                status: status,
                headers: retryAfter.map { [("Retry-After", String($0))] } ?? [],
                body: SimulatorDocuments.error(code: code, subcode: subcode, message: "Simulated answer.")
            )
            return
        }
        switch (request.method, lowered) {
        case (.GET, "/autodiscover/autodiscoverservice.svc/root"):
            root(pool: pool, responder: responder)
        case (.GET, "/autodiscover/autodiscoverservice.svc/root/oauth/user"):
            user(request, pool: pool, responder: responder)
        case (.POST, "/webticket/oauthtoken"):
            token(request, pool: pool, responder: responder)
        case (.POST, "/ucwa/oauth/v1/applications"):
            guard authorized(request, pool: pool, responder: responder) else { return }
            createApplication(request, pool: pool, responder: responder)
        default:
            let parts = path.split(separator: "/")
            // ucwa/oauth/v1/applications/{id}[/events | /communication/participantInvitations/{n}]
            guard parts.count >= 5, parts[0] == "ucwa", parts[3] == "applications", let id = Int(parts[4]) else {
                responder.send(
                    status: 404,
                    body: SimulatorDocuments.error(
                        code: "NotFound",
                        subcode: "ResourceNotFound",
                        message: "No such resource."
                    )
                )
                return
            }
            guard authorized(request, pool: pool, responder: responder) else { return }
            let rest = parts.dropFirst(5)
            if rest.isEmpty, request.method == .DELETE {
                deleteApplication(id, responder: responder)
            } else if rest == ["events"], request.method == .GET {
                events(request, applicationID: id, responder: responder)
            } else if rest.count == 3, rest.first == "communication",
                rest.dropFirst().first?.hasSuffix("Invitations") == true,
                let number = Int(rest.last!), request.method == .GET
            {
                invitation(number, responder: responder)
            } else if request.method == .GET,
                rest.count == 2 && rest.first == "people"
                    || rest.count == 5 && rest.first == "communication" && rest.dropFirst(3).first == "participants"
            {
                person(String(rest.last!), participant: rest.count == 5, responder: responder)
            } else {
                responder.send(
                    status: 404,
                    body: SimulatorDocuments.error(
                        code: "NotFound",
                        subcode: "ResourceNotFound",
                        message: "No such resource."
                    )
                )
            }
        }
    }

    /// Which `SimulatorRoute` a request is on (path without the pool prefix, lower-cased).
    static func route(_ method: HTTPMethod, _ path: String) -> SimulatorRoute? {
        switch (method, path) {
        case (.GET, "/autodiscover/autodiscoverservice.svc/root"): return .autodiscover
        case (.GET, "/autodiscover/autodiscoverservice.svc/root/oauth/user"): return .user
        case (.POST, "/webticket/oauthtoken"): return .token
        case (.POST, "/ucwa/oauth/v1/applications"): return .applications
        case (.GET, _) where path.hasSuffix("/events"): return .events
        case (.GET, _) where path.contains("/participantinvitations/"): return .invitation
        default: return nil
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
