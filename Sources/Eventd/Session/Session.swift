import CurlHTTP
import Logging
import UCWA

/// Who signs in: the user name and the password (read from a credential file by the caller;
/// never logged, never in argv or the environment).
public struct Credentials: Sendable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }
}

/// What the sign-in is doing, for `STATUS=` (the daemon shows it while it has no channel).
public enum SessionProgress: Sendable, Equatable {
    /// A sign-in step (autodiscover, user, token, application) is on the network.
    case requesting(url: String)
    /// The step at `url` failed (`reason`: short, without the URL) and is tried again after `delay`.
    case retrying(url: String, reason: String, delay: Duration)
}

/// The signed-in session: runs the bootstrap (`SessionMachine`) over the HTTP client, holds the
/// bearer token, refreshes it before it expires, and sends authorized requests with one new
/// token and one retry on 401.
public actor Session {
    nonisolated public let client: HTTPClient
    nonisolated public let settings: SessionMachine.Settings
    private let credentials: Credentials
    private let policy: RetryPolicy
    private let logger: Logger
    /// Told of every sign-in step and every wait before a retry.
    private let progress: @Sendable (SessionProgress) -> Void

    private var token: String?
    /// When the token should be replaced: 80 % of `expires_in` after it was granted.
    private var refreshAt: ContinuousClock.Instant?
    private var tokenURL: String?
    public private(set) var endpoints: ApplicationEndpoints?
    /// Tokens granted so far (for tests and diagnostics).
    public private(set) var grants = 0

    public init(
        client: HTTPClient, settings: SessionMachine.Settings, credentials: Credentials, policy: RetryPolicy = RetryPolicy(),
        logger: Logger, progress: @escaping @Sendable (SessionProgress) -> Void = { _ in }
    ) {
        self.client = client
        self.settings = settings
        self.credentials = credentials
        self.policy = policy
        self.logger = logger
        self.progress = progress
    }

    /// Autodiscover, sign in and create the application.
    public func bootstrap() async throws -> ApplicationEndpoints {
        var machine = SessionMachine(settings: settings)
        return try await drive(&machine, first: machine.start())
    }

    /// A new application on the same pool (after 404 `ApplicationNotFound` or 410 expiry); the
    /// whole bootstrap again if no pool is known yet.
    public func createApplication() async throws -> ApplicationEndpoints {
        guard let applicationsURL = endpoints?.applicationsURL else { return try await bootstrap() }
        var machine = SessionMachine(settings: settings)
        return try await drive(&machine, first: machine.createApplication(at: applicationsURL))
    }

    private func drive(_ machine: inout SessionMachine, first: SessionAction) async throws -> ApplicationEndpoints {
        var action = first
        var lastRequest = first
        var lastURL = settings.discoverURL
        var lastFailure = ""
        var attempt = 0
        while true {
            try Task.checkCancellation()
            switch action {
            case .get(let url, let authorized):
                lastRequest = action
                lastURL = url
                progress(.requesting(url: url))
                let request = HTTPRequest(url: url, headers: Self.accept + (authorized ? try await authorization() : []))
                action = try await respond(&machine, to: request, attempt: &attempt, failure: &lastFailure)
            case .createApplication(let url, let body):
                lastRequest = action
                lastURL = url
                progress(.requesting(url: url))
                let request = HTTPRequest(
                    .post, url: url,
                    headers: Self.accept + [HTTPHeader("Content-Type", "application/json")] + (try await authorization()),
                    body: body)
                action = try await respond(&machine, to: request, attempt: &attempt, failure: &lastFailure)
            case .requestToken(let url):
                lastRequest = action
                lastURL = url
                let response = try await grant(at: url, attempt: &attempt)
                if let response { lastFailure = "HTTP \(response.status)" }
                action = response.map { machine.tokenRefused(status: $0.status, body: $0.body) } ?? machine.tokenGranted()
            case .retryLater(let retryAfter, let reason):
                attempt += 1
                guard policy.allows(attempt: attempt) else {
                    throw SessionFailure.unexpectedDocument(url: settings.discoverURL, detail: "\(reason); gave up after \(attempt) attempts")
                }
                let delay = policy.delay(attempt: attempt, retryAfter: retryAfter, random: Double.random(in: 0..<1))
                logger.warning("sign-in step failed, retrying", metadata: ["reason": "\(reason)", "delay": "\(delay)"])
                progress(.retrying(url: lastURL, reason: lastFailure, delay: delay))
                try await Task.sleep(for: delay)
                action = lastRequest
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
    private func respond(_ machine: inout SessionMachine, to request: HTTPRequest, attempt: inout Int, failure: inout String) async throws -> SessionAction {
        do {
            let response = try await client.execute(request)
            if response.isSuccess { attempt = 0 }
            failure = "HTTP \(response.status)"
            return machine.received(
                status: response.status, headers: response.headers.map { ($0.name, $0.value) }, body: response.body,
                url: request.url, now: WallClock.secondsSince1970())
        } catch let error as HTTPClientError where error.isRetryable {
            failure = error.shortReason
            return .retryLater(retryAfter: nil, reason: error.description)
        }
    }

    /// The password grant. Returns nil on success (the token is stored), else the response.
    private func grant(at url: String, attempt: inout Int) async throws -> HTTPResponse? {
        let form = FormEncoding.encode([
            ("grant_type", "password"), ("username", credentials.username), ("password", credentials.password),
        ])
        let request = HTTPRequest(
            .post, url: url,
            headers: Self.accept + [HTTPHeader("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")],
            body: Array(form.utf8))
        while true {
            let response: HTTPResponse
            progress(.requesting(url: url))
            do {
                response = try await client.execute(request)
            } catch let error as HTTPClientError where error.isRetryable {
                attempt += 1
                guard policy.allows(attempt: attempt) else { throw error }
                let delay = policy.delay(attempt: attempt, random: Double.random(in: 0..<1))
                logger.warning("token request failed, retrying", metadata: ["reason": "\(error)", "delay": "\(delay)"])
                progress(.retrying(url: url, reason: error.shortReason, delay: delay))
                try await Task.sleep(for: delay)
                continue
            }
            guard response.status == 200, let grant = TokenGrant.parse(response.body) else { return response }
            token = grant.accessToken
            tokenURL = url
            grants += 1
            // Refresh at 80 % of the lifetime, at least 5 s ahead.
            let lifetime = Duration.seconds(grant.expiresIn)
            refreshAt = ContinuousClock.now + max(lifetime * 0.8, lifetime - .seconds(max(5, grant.expiresIn / 5)))
            logger.info("token granted", metadata: ["expires_in": "\(grant.expiresIn)"])
            return nil
        }
    }

    /// The `Authorization` header, after a refresh when the token is close to expiry.
    public func authorization() async throws -> [HTTPHeader] {
        if let refreshAt, ContinuousClock.now >= refreshAt {
            logger.info("token close to expiry, refreshing")
            try await reauthenticate()
        }
        guard let token else { return [] }
        return [HTTPHeader("Authorization", "Bearer \(token)")]
    }

    /// A new token from the token endpoint that issued the last one.
    public func reauthenticate() async throws {
        guard let tokenURL else {
            _ = try await bootstrap()
            return
        }
        var attempt = 0
        if let refused = try await grant(at: tokenURL, attempt: &attempt) {
            throw SessionMachine.tokenFailure(url: tokenURL, status: refused.status, body: refused.body)
        }
    }


    /// Sends a buffered request with the token; on 401 gets one new token and retries once.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var authorized = request
        authorized.headers += try await authorization()
        let response = try await client.execute(authorized)
        guard response.status == 401 else { return response }
        try await reauthenticate()
        var retried = request
        retried.headers += try await authorization()
        return try await client.execute(retried)
    }

    /// Signs out: deletes the application (`DeleteOnStop=yes`).
    public func deleteApplication() async throws {
        guard let url = endpoints?.applicationURL else { return }
        _ = try await send(HTTPRequest(.delete, url: url, headers: Self.accept))
        endpoints = nil
    }

    static let accept = [HTTPHeader("Accept", "application/json")]
}

extension HTTPClientError {
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
