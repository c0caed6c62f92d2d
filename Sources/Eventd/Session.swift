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

/// The signed-in session: runs the bootstrap (`SessionMachine`) over the HTTP client, holds the
/// bearer token, refreshes it before it expires, and sends authorized requests with one new
/// token and one retry on 401.
public actor Session {
    nonisolated public let client: HTTPClient
    nonisolated public let settings: SessionMachine.Settings
    private let credentials: Credentials
    private let policy: RetryPolicy
    private let logger: Logger

    private var token: String?
    /// When the token should be replaced: 80 % of `expires_in` after it was granted.
    private var refreshAt: ContinuousClock.Instant?
    private var tokenURL: String?
    public private(set) var endpoints: ApplicationEndpoints?
    /// Tokens granted so far (for tests and diagnostics).
    public private(set) var grants = 0

    public init(client: HTTPClient, settings: SessionMachine.Settings, credentials: Credentials, policy: RetryPolicy = RetryPolicy(), logger: Logger) {
        self.client = client
        self.settings = settings
        self.credentials = credentials
        self.policy = policy
        self.logger = logger
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
        var attempt = 0
        while true {
            try Task.checkCancellation()
            switch action {
            case .get(let url, let authorized):
                lastRequest = action
                let request = HTTPRequest(url: url, headers: Self.accept + (authorized ? try await authorization() : []))
                action = try await respond(&machine, to: request, attempt: &attempt)
            case .createApplication(let url, let body):
                lastRequest = action
                let request = HTTPRequest(
                    .post, url: url,
                    headers: Self.accept + [HTTPHeader("Content-Type", "application/json")] + (try await authorization()),
                    body: body)
                action = try await respond(&machine, to: request, attempt: &attempt)
            case .requestToken(let url):
                lastRequest = action
                let response = try await grant(at: url, attempt: &attempt)
                action = response.map { machine.tokenRefused(status: $0.status, body: $0.body) } ?? machine.tokenGranted()
            case .retryLater(let retryAfter, let reason):
                attempt += 1
                guard policy.allows(attempt: attempt) else {
                    throw SessionFailure.unexpectedDocument(url: settings.discoverURL, detail: "\(reason); gave up after \(attempt) attempts")
                }
                let delay = policy.delay(attempt: attempt, retryAfter: retryAfter, random: Double.random(in: 0..<1))
                logger.warning("sign-in step failed, retrying", metadata: ["reason": "\(reason)", "delay": "\(delay)"])
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
    private func respond(_ machine: inout SessionMachine, to request: HTTPRequest, attempt: inout Int) async throws -> SessionAction {
        do {
            let response = try await client.execute(request)
            if response.isSuccess { attempt = 0 }
            return machine.received(
                status: response.status, headers: response.headers.map { ($0.name, $0.value) }, body: response.body,
                url: request.url, now: WallClock.secondsSince1970())
        } catch let error as HTTPClientError where error.isRetryable {
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
            do {
                response = try await client.execute(request)
            } catch let error as HTTPClientError where error.isRetryable {
                attempt += 1
                guard policy.allows(attempt: attempt) else { throw error }
                try await Task.sleep(for: policy.delay(attempt: attempt, random: Double.random(in: 0..<1)))
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
