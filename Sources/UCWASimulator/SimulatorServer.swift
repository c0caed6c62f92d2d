import NIOCore
import NIOHTTP1
import StreamingJSON

/// The simulated UCWA server's state and routes. Confined to one event loop: every method runs
/// on `loop` (the NIO handlers call it there; `UCWASimulator` hops onto it).
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
    private var tokens: [String: Token] = [:]
    var applications: [Int: Application] = [:]
    private var nextApplicationID = 101
    var invitations: [Int: SimulatedInvitation] = [:]
    private var nextInvitationID = 1
    /// Events queued while no application is alive; the next application gets them.
    private var unassigned: [QueuedEvent] = []

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

    private func rel(_ name: String) -> String { options.prefixedRels ? "ms:rtc:saas:" + name : name }

    private var liveApplication: Application? {
        applications.values.filter { !$0.gone }.max { $0.id < $1.id }
    }

    /// Queues the events of one invitation's lifecycle; returns the invitation's href.
    func play(_ script: InvitationScript) -> String {
        let id = nextInvitationID
        nextInvitationID += 1
        let pool = liveApplication?.pool ?? (options.redirectUser ? "/pool2" : "")
        let application = liveApplication?.id ?? nextApplicationID
        // With a late baseuri the hrefs are relative to it alone (no leading "/").
        let root = options.lateBaseURI ? String("\(pool)/ucwa".dropFirst()) : "\(pool)/ucwa"
        let applicationPath = "\(root)/oauth/v1/applications/\(application)"
        let base = applicationPath + "/communication"
        var invitation = SimulatedInvitation(
            id: id,
            href: "\(base)/\(script.kind)s/\(id)",
            conversationHref: "\(base)/conversations/\(id)",
            peopleHref: applicationPath + "/people",
            operationID: "op-\(id)",
            threadID: "thread-\(id)",
            script: script,
            state: "Connecting"
        )
        var events: [(JSONValue, String, Bool)] = []
        if script.withStarted { events.append((invitationEvent(invitation, type: "started"), invitation.state, false)) }
        if script.withAlerting {
            invitation.state = "Alerting"
            events.append((invitationEvent(invitation, type: "updated"), invitation.state, false))
        }
        invitation.state = script.outcome.finalState
        events.append((invitationEvent(invitation, type: "completed"), invitation.state, true))
        // The resource answers GETs with the state of the last event sent about it.
        invitation.state = "Connecting"
        invitations[id] = invitation
        // All events of the script are queued before a parked poll is released: one batch.
        for (event, state, completed) in events {
            enqueue(
                QueuedEvent(
                    senderRel: rel("communication"),
                    senderHref: base,
                    event: event,
                    invitation: (id, state, completed)
                ),
                release: false
            )
        }
        if let application = liveApplication { releaseParkedPoll(of: application) }
        return invitation.href
    }

    /// Queues an arbitrary event (for rels other than invitations).
    func deliver(senderRel: String, senderHref: String, event: JSONValue) {
        enqueue(QueuedEvent(senderRel: senderRel, senderHref: senderHref, event: event, invitation: nil))
    }

    private func invitationEvent(_ invitation: SimulatedInvitation, type: String) -> JSONValue {
        var members: [(String, JSONValue)] = [
            (
                "link",
                SimulatorDocuments.object([
                    ("rel", .string(rel(invitation.script.kind))), ("href", .string(invitation.href)),
                ])
            )
        ]
        if options.embedResources {
            members.append(
                (
                    "_embedded",
                    SimulatorDocuments.object([
                        (rel(invitation.script.kind), invitation.resource(rel: rel))
                    ])
                )
            )
        }
        if type == "completed" {
            switch invitation.script.outcome {
            case .connected:
                members.append(("status", .string("Success")))
            case .failed(let code, let subcode, let message):
                members.append(("status", .string("Failure")))
                members.append(
                    (
                        "reason",
                        SimulatorDocuments.object([
                            ("code", .string(code)), ("subcode", .string(subcode)), ("message", .string(message)),
                        ])
                    )
                )
            case .declined:
                members.append(("status", .string("Failure")))
                members.append(
                    (
                        "reason",
                        SimulatorDocuments.object([
                            ("code", .string("RemoteFailure")), ("subcode", .string("Declined")),
                            ("message", .string("Your invitation was declined.")),
                        ])
                    )
                )
            case .cancelled:
                members.append(("status", .string("Failure")))
                members.append(
                    (
                        "reason",
                        SimulatorDocuments.object([
                            ("code", .string("LocalFailure")), ("subcode", .string("Canceled")),
                        ])
                    )
                )
            }
        }
        members.append(("type", .string(type)))
        return SimulatorDocuments.object(members)
    }

    private func enqueue(_ event: QueuedEvent, release: Bool = true) {
        guard let application = liveApplication else {
            unassigned.append(event)
            return
        }
        application.queue.append(event)
        stats.eventsOutstanding += 1
        if release { releaseParkedPoll(of: application) }
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

    private func root(pool: String, responder: Responder) {
        let rootPath = "/autodiscover/autodiscoverservice.svc/root"
        if pool.isEmpty, options.redirectAutodiscover {
            let body = SimulatorDocuments.object([
                (
                    "_links",
                    SimulatorDocuments.links([
                        ("self", baseURL + rootPath), ("redirect", baseURL + "/pool2" + rootPath),
                    ])
                )
            ])
            responder.send(status: 200, body: SimulatorDocuments.bytes(body))
            return
        }
        let body = SimulatorDocuments.object([
            (
                "_links",
                SimulatorDocuments.links([
                    ("self", baseURL + pool + rootPath),
                    ("user", baseURL + pool + rootPath + "/oauth/user?originalDomain=contoso.com"),
                    ("xframe", baseURL + pool + "/Autodiscover/XFrame/XFrame.html"),
                ])
            )
        ])
        responder.send(status: 200, body: SimulatorDocuments.bytes(body))
    }

    private func user(_ request: SimulatorRequest, pool: String, responder: Responder) {
        guard authorized(request, pool: pool, responder: responder) else { return }
        if pool.isEmpty, options.redirectUser {
            let body = SimulatorDocuments.object([
                (
                    "_links",
                    SimulatorDocuments.links([
                        ("self", baseURL + "/Autodiscover/AutodiscoverService.svc/root/oauth/user"),
                        ("redirect", baseURL + "/pool2/Autodiscover/AutodiscoverService.svc/root"),
                    ])
                )
            ])
            responder.send(status: 200, body: SimulatorDocuments.bytes(body))
            return
        }
        let body = SimulatorDocuments.object([
            (
                "_links",
                SimulatorDocuments.links([
                    ("self", baseURL + pool + "/Autodiscover/AutodiscoverService.svc/root/oauth/user"),
                    ("applications", baseURL + pool + "/ucwa/oauth/v1/applications"),
                    ("xframe", baseURL + pool + "/Autodiscover/XFrame/XFrame.html"),
                ])
            )
        ])
        responder.send(status: 200, body: SimulatorDocuments.bytes(body))
    }

    /// Checks the bearer token; answers 401 with the MsRtcOAuth challenge when it is missing,
    /// expired, revoked or from another pool.
    private func authorized(_ request: SimulatorRequest, pool: String, responder: Responder) -> Bool {
        if let header = request.headers.first(name: "Authorization"), header.hasPrefix("Bearer "),
            let token = tokens[String(header.dropFirst(7))], token.pool == pool, NIODeadline.now() < token.expires
        {
            return true
        }
        let tokenURL = baseURL + pool + "/WebTicket/oauthtoken"
        let href = options.unquotedChallengeHref ? "href=\(tokenURL)" : "href=\"\(tokenURL)\""
        responder.send(
            status: 401,
            headers: [
                (
                    "WWW-Authenticate",
                    "Bearer trusted_issuers=\"00000001-0000-0000-c000-000000000000@contoso.com\", client_id=\"00000004-0000-0ff1-ce00-000000000000\""
                ),
                (
                    "WWW-Authenticate",
                    "MsRtcOAuth \(href),grant_type=\"urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password\""
                ),
            ],
            body: Array("<html><body>401 Unauthorized</body></html>".utf8),
            contentType: "text/html"
        )
        return false
    }

    private func token(_ request: SimulatorRequest, pool: String, responder: Responder) {
        var form: [String: String] = [:]
        for pair in String(decoding: request.body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { Self.formDecode($0) }
            if parts.count == 2 { form[parts[0]] = parts[1] }
        }
        guard form["grant_type"] == "password" else {
            responder.send(
                status: 400,
                body: SimulatorDocuments.bytes(
                    SimulatorDocuments.object([("error", .string("unsupported_grant_type"))])
                )
            )
            return
        }
        guard form["username"] == options.username, form["password"] == options.password else {
            responder.send(
                status: 400,
                body: SimulatorDocuments.bytes(SimulatorDocuments.object([("error", .string("invalid_grant"))]))
            )
            return
        }
        stats.tokensIssued += 1
        let value = "cwt=SIMTOKEN\(stats.tokensIssued)x\(Int.random(in: 100_000...999_999))"
        tokens[value] = Token(pool: pool, expires: .now() + TimeAmount(options.tokenLifetime))
        let lifetime = max(1, Int(options.tokenLifetime.components.seconds))
        let body = SimulatorDocuments.object([
            ("access_token", .string(value)), ("expires_in", .number(String(lifetime))),
            ("ms_rtc_identityscope", .string("local")), ("token_type", .string("Bearer")),
        ])
        responder.send(status: 200, headers: [("Cache-Control", "no-store")], body: SimulatorDocuments.bytes(body))
    }

    static func formDecode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func createApplication(_ request: SimulatorRequest, pool: String, responder: Responder) {
        guard let body = try? JSONValue.parse(request.body),
            let endpointID = (body["endpointId"] ?? body["EndpointId"])?.stringValue,
            let userAgent = (body["userAgent"] ?? body["UserAgent"])?.stringValue,
            let culture = (body["culture"] ?? body["Culture"])?.stringValue
        else {
            responder.send(
                status: 400,
                body: SimulatorDocuments.error(
                    code: "BadRequest",
                    subcode: "ParameterValidationFailure",
                    message: "culture, endpointId and userAgent are required."
                )
            )
            return
        }
        let application: Application
        var status = 200
        if let existing = applications.values.first(where: {
            !$0.gone && $0.pool == pool && $0.endpointID == endpointID && $0.userAgent == userAgent
        }) {
            application = existing
        } else {
            application = Application(
                id: nextApplicationID,
                pool: pool,
                endpointID: endpointID,
                userAgent: userAgent,
                culture: culture
            )
            nextApplicationID += 1
            applications[application.id] = application
            stats.applicationsCreated += 1
            status = 201
            let waiting = unassigned
            unassigned.removeAll()
            for event in waiting { enqueue(event) }
        }
        let document = SimulatorDocuments.object([
            ("culture", .string(culture)), ("endpointId", .string(endpointID)),
            ("id", .string("app-\(application.id)")),
            ("type", .string("Browser")), ("userAgent", .string(userAgent)),
            (
                "_links",
                SimulatorDocuments.links([
                    ("self", application.path), ("policies", application.path + "/policies"),
                    ("batch", application.path + "/batch"),
                    ("events", application.eventsHref(ack: application.nextBatch)),
                ])
            ),
            ("rel", .string("application")),
        ])
        responder.send(
            status: status,
            headers: [("ETag", "\"\(application.id)\"")],
            body: SimulatorDocuments.bytes(document)
        )
    }

    private func deleteApplication(_ id: Int, responder: Responder) {
        guard let application = applications[id], !application.gone else {
            responder.send(
                status: 404,
                body: SimulatorDocuments.error(
                    code: "NotFound",
                    subcode: "ApplicationNotFound",
                    message: "The application does not exist."
                )
            )
            return
        }
        retire(application)
        responder.send(status: 204, body: [])
    }

    func retire(_ application: Application) {
        application.gone = true
        application.parked?.timer?.cancel()
        application.parked = nil
        stats.eventsOutstanding -= application.queue.count + application.sent.values.reduce(0) { $0 + $1.eventCount }
    }

    // MARK: People

    /// The simulated directory: display names by address (others get none).
    static let directory = ["alice@contoso.com": "Alice Smith", "alice": "Alice Smith", "bob@contoso.com": "Bob Jones"]

    /// A contact (`…/people/<address>`) or participant (`…/participants/<address>`) resource.
    private func person(_ id: String, participant: Bool, responder: Responder) {
        stats.peopleRequests += 1
        // Percent-decoded only (a `+` in `tel:+1…` stays a plus).
        let address = Self.formDecode(Substring(id.map { $0 == "+" ? "%2B" : String($0) }.joined()))
        var members: [(String, JSONValue)] = []
        if let name = Self.directory[address] { members.append(("name", .string(name))) }
        if address.contains("@") { members.append(("uri", .string("sip:" + address))) }
        members.append(("rel", .string(rel(participant ? "participant" : "contact"))))
        responder.send(status: 200, body: SimulatorDocuments.bytes(SimulatorDocuments.object(members)))
    }

    // MARK: Invitation resources

    private func invitation(_ number: Int, responder: Responder) {
        if case .invitationStatus(let status)? = takeFault(where: {
            if case .invitationStatus = $0 { true } else { false }
        }) {
            responder.send(
                status: status,
                body: SimulatorDocuments.error(
                    code: status == 404 ? "NotFound" : "ServiceFailure",
                    message: "Simulated failure."
                )
            )
            return
        }
        let answer: @Sendable () -> Void = { [self] in
            guard let invitation = invitations[number], !(options.completedInvitationsGone && invitation.completed)
            else {
                responder.send(
                    status: 404,
                    body: SimulatorDocuments.error(
                        code: "NotFound",
                        subcode: "ResourceNotFound",
                        message: "The invitation no longer exists."
                    )
                )
                return
            }
            responder.send(
                status: 200,
                body: SimulatorDocuments.bytes(invitation.resource(rel: rel, absolutePaths: true))
            )
        }
        if case .slowInvitation(let delay)? = takeFault(where: { if case .slowInvitation = $0 { true } else { false } })
        {
            loop.scheduleTask(in: TimeAmount(delay)) { answer() }
        } else {
            answer()
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
