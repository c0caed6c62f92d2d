import CurlHTTP
import Logging
import UCWA

/// Who signs in: the user name and the password (read from a credential file by the caller;
/// never logged, never in argv or the environment).
struct Credentials: Sendable {
    var username: String
    var password: String

    init(username: String, password: String) {
        self.username = username
        self.password = password
    }
}

/// What the sign-in is doing, for `STATUS=` (the daemon shows it while it has no channel).
enum SessionProgress: Sendable, Equatable {
    /// A sign-in step (autodiscover, user, token, application) is on the network.
    case requesting(url: String)
    /// The step at `url` failed (`reason`: short, without the URL) and is tried again after `delay`.
    case retrying(url: String, reason: String, delay: Duration)
}

/// The signed-in session: runs the bootstrap (`SessionMachine`) over the HTTP client, holds the
/// bearer token, refreshes it before it expires, and sends authorized requests with one new
/// token and one retry on 401 (or 403 `InvalidToken`). One token grant at a time: the actor
/// is reentrant while a grant awaits the network, so every request that needs a new token
/// meanwhile waits for that grant (`grantInFlight`) instead of starting its own, and a request
/// whose token was replaced meanwhile only retries. A re-authentication never signs in anew
/// or creates an application; `rediscover()` (after a 403) does, on purpose.
actor Session {
    nonisolated let client: CurlClient
    nonisolated let settings: SessionMachine.Settings
    private let credentials: Credentials
    private let policy: RetryPolicy
    private let logger: Logger
    /// What the token's refresh time and the waits before retries are measured with, here and
    /// in what talks through the session (the event channel, the resolver).
    nonisolated let clock: DaemonClock
    /// Told of every sign-in step and every wait before a retry.
    private let progress: @Sendable (SessionProgress) -> Void

    private var token: String?
    /// When the token should be replaced: 80 % of `expires_in` after it was granted.
    private var refreshAt: DaemonClock.Instant?
    private var tokenURL: String?
    /// The token grant on the network, if any: every request that needs a new token while it
    /// runs waits for this one instead of starting its own (the actor is reentrant while the
    /// grant awaits the network).
    private var grantInFlight: Task<CurlResponse?, any Error>?
    package private(set) var endpoints: ApplicationEndpoints?
    /// Tokens granted so far (for tests and diagnostics).
    package private(set) var grants = 0

    init(
        client: CurlClient,
        settings: SessionMachine.Settings,
        credentials: Credentials,
        policy: RetryPolicy = RetryPolicy(),
        logger: Logger,
        clock: DaemonClock = .continuous,
        progress: @escaping @Sendable (SessionProgress) -> Void = { _ in }
    ) {
        self.client = client
        self.settings = settings
        self.credentials = credentials
        self.policy = policy
        self.logger = logger
        self.clock = clock
        self.progress = progress
    }

    /// Autodiscover, sign in and create the application.
    func bootstrap() async throws -> ApplicationEndpoints {
        var machine = SessionMachine(settings: settings)
        return try await drive(&machine, first: machine.start())
    }

    /// A new application on the same pool (after 404 `ApplicationNotFound` or 410 expiry); the
    /// whole bootstrap again if no pool is known yet.
    func createApplication() async throws -> ApplicationEndpoints {
        guard let applicationsURL = endpoints?.applicationsURL else { return try await bootstrap() }
        var machine = SessionMachine(settings: settings)
        return try await drive(&machine, first: machine.createApplication(at: applicationsURL))
    }

    /// Throws away what the sign-in found (the pool, the token) and signs in again from the
    /// autodiscover root: the protocol's answer to a 403 (notes §1.1: 403 is a reason to
    /// discover again). The same endpoint id finds the same application if the pool kept it.
    func rediscover() async throws -> ApplicationEndpoints {
        token = nil
        refreshAt = nil
        tokenURL = nil
        endpoints = nil
        return try await bootstrap()
    }

    private func drive(_ machine: inout SessionMachine, first: SessionAction) async throws -> ApplicationEndpoints {
        var action = first
        var lastRequest = first
        var lastURL = settings.discoverURL
        var lastFailure = ""
        var budget = RetryBudget(policy: policy, operation: "sign-in")
        while true {
            try Task.checkCancellation()
            switch action {
            case .get(let url, let authorized):
                lastRequest = action
                lastURL = url
                progress(.requesting(url: url))
                let request = CurlRequest(
                    url: url,
                    headers: Self.accept + (authorized ? try await authorization() : [])
                )
                action = try await respond(&machine, to: request, budget: &budget, failure: &lastFailure)
            case .createApplication(let url, let body):
                lastRequest = action
                lastURL = url
                progress(.requesting(url: url))
                let request = CurlRequest(
                    .post,
                    url: url,
                    headers: Self.accept + [HTTPHeader("Content-Type", "application/json")]
                        + (try await authorization()),
                    body: body
                )
                action = try await respond(&machine, to: request, budget: &budget, failure: &lastFailure)
            case .requestToken(let url):
                lastRequest = action
                lastURL = url
                let response = try await sharedGrant(at: url)
                if let response { lastFailure = "HTTP \(response.status)" }
                action =
                    response.map { machine.tokenRefused(status: $0.status, body: $0.body) } ?? machine.tokenGranted()
            case .retryLater(let retryAfter, let reason):
                switch budget.failed(
                    url: lastURL,
                    reason: lastFailure,
                    retryAfter: retryAfter,
                    random: Double.random(in: 0..<1)
                ) {
                case .spent(let spent):
                    throw spent
                case .retry(let delay):
                    logger.warning(
                        "sign-in step failed, retrying",
                        metadata: ["reason": "\(reason)", "delay": "\(delay)", "attempt": "\(budget.failures)"]
                    )
                    progress(.retrying(url: lastURL, reason: lastFailure, delay: delay))
                    try await clock.sleep(for: delay)
                    action = lastRequest
                }
            case .ready(let endpoints):
                self.endpoints = endpoints
                logger.info("application ready", metadata: ["application": "\(endpoints.applicationURL)"])
                return endpoints
            case .fail(let failure):
                throw failure
            }
        }
    }

    /// Sends one bootstrap request; transport failures that may pass become `retryLater`.
    /// `failure`: why it failed, in a few words for `STATUS=` (no URL).
    private func respond(
        _ machine: inout SessionMachine,
        to request: CurlRequest,
        budget: inout RetryBudget,
        failure: inout String
    ) async throws -> SessionAction {
        do {
            let response = try await client.execute(request)
            if response.isSuccess { budget.succeeded() }
            failure = "HTTP \(response.status)"
            return machine.received(
                status: response.status,
                headers: response.headers.map { ($0.name, $0.value) },
                body: response.body,
                url: request.url,
                now: WallClock.secondsSince1970()
            )
        } catch let error as CurlClientError where error.isRetryable {
            failure = error.shortReason
            return .retryLater(retryAfter: nil, reason: error.description)
        }
    }

    /// The password grant at `url`, or the one already on the network (whatever its URL: one
    /// grant at a time, shared by every waiter). Returns nil on success (the token is stored),
    /// else the refusal.
    private func sharedGrant(at url: String) async throws -> CurlResponse? {
        if let running = grantInFlight {
            return try await Self.join(running)
        }
        let task = Task(executorPreference: client.taskExecutor) { try await self.grant(at: url) }
        grantInFlight = task
        defer { grantInFlight = nil }
        return try await Self.join(task)
    }

    /// Waits for a grant; a cancelled waiter (a stop) cancels it.
    private static func join(_ task: Task<CurlResponse?, any Error>) async throws -> CurlResponse? {
        try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
    }

    /// The password grant, retried (transport errors, 429, 5xx, honouring `Retry-After`) within
    /// the retry budget. Returns nil on success (the token is stored), else the response.
    private func grant(at url: String) async throws -> CurlResponse? {
        let form = FormEncoding.encode([
            ("grant_type", "password"), ("username", credentials.username), ("password", credentials.password),
        ])
        let request = CurlRequest(
            .post,
            url: url,
            headers: Self.accept + [HTTPHeader("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")],
            body: Array(form.utf8)
        )
        var budget = RetryBudget(policy: policy, operation: "token grant")
        while true {
            progress(.requesting(url: url))
            let failure: String
            let detail: String
            var retryAfter: Duration?
            do {
                let response = try await client.execute(request)
                if response.status == 429 || response.status >= 500 {
                    failure = "HTTP \(response.status)"
                    detail = "\(url): HTTP \(response.status)"
                    retryAfter = RetryAfter.parse(
                        response.headerValue("Retry-After"),
                        now: WallClock.secondsSince1970()
                    )
                } else {
                    guard response.status == 200, let grant = TokenGrant.parse(response.body) else { return response }
                    token = grant.accessToken
                    tokenURL = url
                    grants += 1
                    // Refresh at 80 % of the lifetime, at least 5 s ahead.
                    let lifetime = Duration.seconds(grant.expiresIn)
                    refreshAt = clock.now.advanced(
                        by: max(lifetime * 0.8, lifetime - .seconds(max(5, grant.expiresIn / 5)))
                    )
                    logger.info("token granted", metadata: ["expires_in": "\(grant.expiresIn)"])
                    return nil
                }
            } catch let error as CurlClientError where error.isRetryable {
                failure = error.shortReason
                detail = error.description
            }
            switch budget.failed(url: url, reason: failure, retryAfter: retryAfter, random: Double.random(in: 0..<1)) {
            case .spent(let spent):
                throw spent
            case .retry(let delay):
                logger.warning(
                    "token request failed, retrying",
                    metadata: ["reason": "\(detail)", "delay": "\(delay)", "attempt": "\(budget.failures)"]
                )
                progress(.retrying(url: url, reason: failure, delay: delay))
                try await clock.sleep(for: delay)
            }
        }
    }

    /// The `Authorization` header, after a refresh when the token is close to expiry.
    func authorization() async throws -> [HTTPHeader] {
        if let refreshAt, let token, clock.now >= refreshAt {
            logger.info("token close to expiry, refreshing")
            try await reauthenticate(replacing: [Self.bearer(token)])
        }
        guard let token else { return [] }
        return [Self.bearer(token)]
    }

    static func bearer(_ token: String) -> HTTPHeader { HTTPHeader("Authorization", "Bearer \(token)") }

    /// A new token in place of the one in `used` (the `Authorization` header a request that got
    /// 401 carried). Never a new application, never a second grant at the same time: when
    /// another request replaced that token already, this returns at once; when a grant is on
    /// the network, this waits for it. The token endpoint is the one that issued the last
    /// token, else `challengeTokenURL` (the `MsRtcOAuth` challenge of the 401).
    func reauthenticate(replacing used: [HTTPHeader], challengeTokenURL: String? = nil) async throws {
        if let running = grantInFlight {
            if let refused = try await Self.join(running) {
                throw SessionMachine.tokenFailure(
                    url: tokenURL ?? challengeTokenURL ?? "",
                    status: refused.status,
                    body: refused.body
                )
            }
            return
        }
        if let token, let sent = used.first(where: { $0.name == "Authorization" })?.value,
            sent != Self.bearer(token).value
        {
            return  // replaced already by a concurrent request
        }
        guard let url = tokenURL ?? challengeTokenURL else {
            throw SessionFailure.noChallenge(url: endpoints?.applicationURL ?? settings.discoverURL)
        }
        if let refused = try await sharedGrant(at: url) {
            throw SessionMachine.tokenFailure(url: url, status: refused.status, body: refused.body)
        }
    }

    /// Sends a buffered request with the token; on 401 (or 403 with a token subcode) gets one
    /// new token and retries once.
    func send(_ request: CurlRequest) async throws -> CurlResponse {
        let used = try await authorization()
        var authorized = request
        authorized.headers += used
        let response = try await client.execute(authorized)
        guard Self.needsNewToken(response) else { return response }
        let challenge = AuthChallenge.find(
            in: response.headers.filter { $0.name.lowercased() == "www-authenticate" }.map(\.value)
        )
        .flatMap { Href.resolve($0.href, against: request.url) }
        try await reauthenticate(replacing: used, challengeTokenURL: challenge)
        var retried = request
        retried.headers += try await authorization()
        return try await client.execute(retried)
    }

    /// 401, or 403 whose UCWA subcode names a token problem (`InvalidToken`).
    static func needsNewToken(_ response: CurlResponse) -> Bool {
        if response.status == 401 { return true }
        guard response.status == 403, let subcode = UCWAErrorBody.parse(response.body)?.subcode else { return false }
        return EventChannelMachine.tokenSubcodes.contains(subcode)
    }

    /// Signs out: deletes the application (`DeleteOnStop=yes`).
    func deleteApplication() async throws {
        guard let url = endpoints?.applicationURL else { return }
        _ = try await send(CurlRequest(.delete, url: url, headers: Self.accept))
        endpoints = nil
    }

    static let accept = [HTTPHeader("Accept", "application/json")]
}

extension CurlClientError {
    /// Why the request failed, in a few words and without the URL (for `STATUS=`).
    var shortReason: String {
        switch kind {
        case .unresolvedHost: "host name not found"
        case .connectFailed: "connection refused or unreachable"
        case .timedOut: "timed out"
        case .tlsVerification: "certificate not trusted"
        case .tls: "TLS failure"
        case .transport: "connection failed"
        case .insecureURL: "plain http:// refused"
        case .invalidURL: "not a URL"
        case .bodyTooLarge: "answer too large"
        }
    }
}
