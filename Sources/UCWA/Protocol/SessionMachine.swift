import Loopback
import StreamingJSON

/// The application the session created: where it lives and where its event channel starts.
package struct ApplicationEndpoints: Sendable, Equatable {
    /// Absolute URL of the application resource (`DELETE` it to sign out).
    package var applicationURL: String
    /// Absolute URL of the first event-channel request (`events?ack=1`).
    package var eventsURL: String
    /// Absolute URL of the `applications` collection (to create a new application later).
    package var applicationsURL: String

    init(applicationURL: String, eventsURL: String, applicationsURL: String) {
        self.applicationURL = applicationURL
        self.eventsURL = eventsURL
        self.applicationsURL = applicationsURL
    }
}

/// Why the bootstrap cannot go on. `credentialsRejected` and `noPasswordGrant` are exit code 77.
package enum SessionFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The token endpoint refused the user name and password (`invalid_grant`).
    case credentialsRejected(url: String, error: String)
    /// The server's challenge offers no `password` grant.
    case noPasswordGrant(url: String, offered: [String])
    /// A 401 without an `MsRtcOAuth` challenge.
    case noChallenge(url: String)
    /// A redirect that failed the protocol's security check.
    case redirectRefused(from: String, to: String)
    case tooManyRedirects(url: String)
    /// A fresh token was refused again.
    case authenticationLoop(url: String)
    /// A document without the link the flow needs, or not JSON.
    case unexpectedDocument(url: String, detail: String)
    /// A status that retrying will not fix.
    case unexpectedStatus(url: String, status: Int, code: String?)
    /// 403 or 410 during sign-in: the server refuses this user or client in a way only an
    /// operator can change (exit 76, not restarted); `advice` says what to do.
    case refused(url: String, status: Int, code: String?, advice: String)

    package var description: String {
        switch self {
        case .credentialsRejected(let url, let error):
            "\(url): the server rejected the user name or password (\(error))"
        case .noPasswordGrant(let url, let offered):
            "\(url): the server does not accept the password grant (it offers: \(offered.joined(separator: ", ")))"
        case .noChallenge(let url):
            "\(url): HTTP 401 without a WWW-Authenticate: MsRtcOAuth challenge"
        case .redirectRefused(let from, let to):
            "\(from): redirect to \(to) refused: it came over plain HTTP and leaves the sign-in domain"
        case .tooManyRedirects(let url):
            "\(url): too many autodiscover redirects"
        case .authenticationLoop(let url):
            "\(url): HTTP 401 again right after a new token"
        case .unexpectedDocument(let url, let detail):
            "\(url): \(detail)"
        case .unexpectedStatus(let url, let status, let code):
            "\(url): HTTP \(status)" + (code.map { " \($0)" } ?? "")
        case .refused(let url, let status, let code, let advice):
            "\(url): HTTP \(status) \(code ?? "(no subcode)"): \(advice)"
        }
    }

    /// The daemon's exit code for this failure (DESIGN.md §3).
    package var exitCode: Int32 {
        switch self {
        case .credentialsRejected, .noPasswordGrant, .authenticationLoop: 77
        case .redirectRefused, .tooManyRedirects: 78
        case .noChallenge, .unexpectedDocument, .unexpectedStatus: 75
        case .refused: 76
        }
    }
}

/// What the session driver must do next.
package enum SessionAction: Sendable, Equatable {
    /// GET this URL, with the bearer token when `authorized`.
    case get(String, authorized: Bool)
    /// Get a token from this token endpoint (password grant), then call `tokenGranted()` or
    /// `tokenRefused(status:body:)`.
    case requestToken(String)
    /// POST this JSON body (the application description) with the bearer token.
    case createApplication(String, body: [UInt8])
    /// Repeat the last request after a backoff: the server or network failed for now.
    case retryLater(retryAfter: Duration?, reason: String)
    /// Done.
    case ready(ApplicationEndpoints)
    case fail(SessionFailure)
}

/// The bootstrap as an explicit state machine (protocol notes §1): autodiscover root → `user`
/// (or `redirect`, after the security check) → 401 `MsRtcOAuth` challenge → token → user →
/// `POST applications`. A user resource may redirect to another pool: the flow starts over
/// there and gets a new token when that pool challenges. Each response goes in with
/// `received(status:headers:body:url:)`; no I/O here.
package struct SessionMachine: Sendable {
    package struct Settings: Sendable, Equatable {
        package var discoverURL: String
        /// The part after `@` of the user name: redirects over plain HTTP may stay inside it.
        var signInDomain: String
        var userAgent: String
        var endpointID: String
        var culture: String
        var maximumRedirects: Int

        package init(
            discoverURL: String,
            username: String,
            userAgent: String,
            endpointID: String,
            culture: String,
            maximumRedirects: Int = 5
        ) {
            self.discoverURL = discoverURL
            self.signInDomain = String(username.split(separator: "@").last ?? "").lowercased()
            self.userAgent = userAgent
            self.endpointID = endpointID
            self.culture = culture
            self.maximumRedirects = maximumRedirects
        }
    }

    package enum State: Sendable, Equatable {
        case idle
        case fetchingRoot(url: String)
        case fetchingUser(url: String)
        case requestingToken(tokenURL: String, then: Step)
        case creatingApplication(url: String)
        case ready(ApplicationEndpoints)
        case failed
    }

    /// The request a token is needed for.
    package enum Step: Sendable, Equatable {
        case user(String)
        case application(String)
    }

    let settings: Settings
    package private(set) var state: State = .idle
    private var redirects = 0
    /// Tokens granted since the last request that a token satisfied.
    private var grantsInARow = 0
    private var haveToken = false

    package init(settings: Settings) {
        self.settings = settings
    }

    package mutating func start() -> SessionAction {
        redirects = 0
        grantsInARow = 0
        state = .fetchingRoot(url: settings.discoverURL)
        return .get(settings.discoverURL, authorized: false)
    }

    /// Starts at a known `applications` URL (a new application after 404/410, with the token
    /// the session already holds).
    package mutating func createApplication(at applicationsURL: String) -> SessionAction {
        grantsInARow = 0
        state = .creatingApplication(url: applicationsURL)
        return .createApplication(applicationsURL, body: applicationBody)
    }

    var applicationBody: [UInt8] {
        var writer = JSONWriter()
        writer.value(
            .object([
                .init("userAgent", .string(settings.userAgent)),
                .init("endpointId", .string(settings.endpointID)),
                .init("culture", .string(settings.culture)),
            ])
        )
        return writer.bytes
    }

    /// The response to the last `get` or `createApplication`. `now` (seconds since 1970) reads
    /// a `Retry-After` given as an HTTP date.
    package mutating func received(
        status: Int,
        headers: [(String, String)],
        body: [UInt8],
        url: String,
        now: Int64 = 0
    ) -> SessionAction {
        if status == 429 || status >= 500 {
            let retryAfter = headers.first { $0.0.lowercased() == "retry-after" }.flatMap {
                RetryAfter.parse($0.1, now: now)
            }
            return .retryLater(retryAfter: retryAfter, reason: "\(url): HTTP \(status)")
        }
        if status == 403 || status == 410 {
            switch state {
            case .fetchingRoot, .fetchingUser, .creatingApplication:
                return refused(status: status, body: body, url: url)
            case .idle, .requestingToken, .ready, .failed: break
            }
        }
        switch state {
        case .fetchingRoot(let rootURL):
            guard status == 200 else {
                return fail(.unexpectedStatus(url: rootURL, status: status, code: UCWAErrorBody.parse(body)?.code))
            }
            guard let links = links(body) else {
                return fail(.unexpectedDocument(url: rootURL, detail: "the autodiscover answer is not a JSON resource"))
            }
            if let user = links.href("user"), let target = Href.resolve(user, against: rootURL) {
                state = .fetchingUser(url: target)
                return .get(target, authorized: haveToken)
            }
            if let redirect = links.href("redirect"), let target = Href.resolve(redirect, against: rootURL) {
                return follow(redirect: target, from: rootURL)
            }
            return fail(
                .unexpectedDocument(
                    url: rootURL,
                    detail: "the autodiscover answer has neither a user nor a redirect link"
                )
            )

        case .fetchingUser(let userURL):
            if status == 401 { return challenge(headers, url: userURL, then: .user(userURL)) }
            guard status == 200 else {
                return fail(.unexpectedStatus(url: userURL, status: status, code: UCWAErrorBody.parse(body)?.code))
            }
            grantsInARow = 0
            guard let links = links(body) else {
                return fail(.unexpectedDocument(url: userURL, detail: "the user resource is not JSON"))
            }
            if let applications = links.href("applications"), let target = Href.resolve(applications, against: userURL)
            {
                return createApplication(at: target)
            }
            if let redirect = links.href("redirect"), let target = Href.resolve(redirect, against: userURL) {
                return follow(redirect: target, from: userURL)
            }
            return fail(
                .unexpectedDocument(
                    url: userURL,
                    detail: "the user resource has neither an applications nor a redirect link"
                )
            )

        case .creatingApplication(let applicationsURL):
            if status == 401 { return challenge(headers, url: applicationsURL, then: .application(applicationsURL)) }
            guard status == 200 || status == 201 else {
                let error = UCWAErrorBody.parse(body)
                return fail(
                    .unexpectedStatus(
                        url: applicationsURL,
                        status: status,
                        code: error.map { [$0.code, $0.subcode].compactMap { $0 }.joined(separator: "/") }
                    )
                )
            }
            guard let links = links(body),
                let selfHref = links.href("self"), let events = links.href("events"),
                let applicationURL = Href.resolve(selfHref, against: applicationsURL),
                let eventsURL = Href.resolve(events, against: applicationsURL)
            else {
                return fail(
                    .unexpectedDocument(url: applicationsURL, detail: "the application has no self or events link")
                )
            }
            let endpoints = ApplicationEndpoints(
                applicationURL: applicationURL,
                eventsURL: eventsURL,
                applicationsURL: applicationsURL
            )
            state = .ready(endpoints)
            return .ready(endpoints)

        case .idle, .requestingToken, .ready, .failed:
            return fail(.unexpectedDocument(url: url, detail: "a response arrived that the session did not ask for"))
        }
    }

    /// 403 or 410 on the user resource or `POST applications`: the server will not let this
    /// user or client in (protocol notes §1.4: 403 "user not allowed to create this kind of
    /// application"; 410 `TooManyApplications`, `UserAgentNotAllowed`, `CannotRedirect`).
    private mutating func refused(status: Int, body: [UInt8], url: String) -> SessionAction {
        let subcode = UCWAErrorBody.parse(body).flatMap { $0.subcode ?? $0.code }
        let advice =
            status == 410
            ? EventChannelMachine.goneAdvice(subcode ?? "")
            : "the server forbids this user or client to sign in to UCWA; ask the server's administrator (the user's policy, [Application] UserAgent=), then systemctl restart"
        return fail(.refused(url: url, status: status, code: subcode, advice: advice))
    }

    private mutating func challenge(_ headers: [(String, String)], url: String, then step: Step) -> SessionAction {
        let values = headers.filter { $0.0.lowercased() == "www-authenticate" }.map(\.1)
        guard let challenge = AuthChallenge.find(in: values) else { return fail(.noChallenge(url: url)) }
        guard challenge.acceptsPassword else { return fail(.noPasswordGrant(url: url, offered: challenge.grantTypes)) }
        guard grantsInARow < 2 else { return fail(.authenticationLoop(url: url)) }
        guard let tokenURL = Href.resolve(challenge.href, against: url) else {
            return fail(.unexpectedDocument(url: url, detail: "the challenge's href is not a URL"))
        }
        grantsInARow += 1
        state = .requestingToken(tokenURL: tokenURL, then: step)
        return .requestToken(tokenURL)
    }

    /// The token endpoint answered with a token; the driver holds it.
    package mutating func tokenGranted() -> SessionAction {
        guard case .requestingToken(_, let step) = state else {
            return fail(.unexpectedDocument(url: "", detail: "a token arrived that the session did not ask for"))
        }
        haveToken = true
        switch step {
        case .user(let url):
            state = .fetchingUser(url: url)
            return .get(url, authorized: true)
        case .application(let url):
            return createApplication(at: url)
        }
    }

    /// The token endpoint refused (400 with an OAuth error, or another status).
    package mutating func tokenRefused(status: Int, body: [UInt8]) -> SessionAction {
        guard case .requestingToken(let tokenURL, _) = state else {
            return fail(.unexpectedDocument(url: "", detail: "a token answer arrived that the session did not ask for"))
        }
        if status == 429 || status >= 500 {
            return .retryLater(retryAfter: nil, reason: "\(tokenURL): HTTP \(status)")
        }
        return fail(Self.tokenFailure(url: tokenURL, status: status, body: body))
    }

    /// Why a token endpoint refused: 400/401/403 or `invalid_grant` mean the credentials.
    package static func tokenFailure(url: String, status: Int, body: [UInt8]) -> SessionFailure {
        let error = UCWAErrorBody.parse(body)?.code ?? "HTTP \(status)"
        if error == "invalid_grant" || status == 400 || status == 401 || status == 403 {
            return .credentialsRejected(url: url, error: error)
        }
        return .unexpectedStatus(url: url, status: status, code: error)
    }

    private mutating func follow(redirect target: String, from url: String) -> SessionAction {
        redirects += 1
        guard redirects <= settings.maximumRedirects else { return fail(.tooManyRedirects(url: target)) }
        guard Self.redirectAllowed(from: url, to: target, signInDomain: settings.signInDomain) else {
            return fail(.redirectRefused(from: url, to: target))
        }
        state = .fetchingRoot(url: target)
        return .get(target, authorized: false)
    }

    /// The protocol's security check for autodiscover redirects (notes §1.1): the answer came
    /// over HTTPS (or from loopback, where nobody can tamper with it), or the target stays in
    /// the sign-in domain. A daemon has no user to ask, so anything else is refused.
    static func redirectAllowed(from url: String, to target: String, signInDomain: String) -> Bool {
        if Href.scheme(of: url) == "https" { return true }
        if let host = Href.host(of: url), LoopbackHost.contains(host) { return true }
        guard let targetHost = Href.host(of: target), !signInDomain.isEmpty else { return false }
        return targetHost == signInDomain || targetHost.hasSuffix("." + signInDomain)
    }

    private func links(_ body: [UInt8]) -> ResourceLinks? {
        guard let document = try? JSONValue.parse(body) else { return nil }
        return ResourceLinks(document)
    }

    private mutating func fail(_ failure: SessionFailure) -> SessionAction {
        state = .failed
        return .fail(failure)
    }
}
