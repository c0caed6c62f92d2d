import Testing
import UCWATestSupport

@testable import CurlHTTP
@testable import Eventd
@testable import UCWA
@testable import UCWASimulator

/// Discovery, token and application against the simulator, through the real HTTP client.
@Suite struct SessionTests {
    @Test func bootstrapDiscoversSignsInAndCreatesAnApplication() async throws {
        let harness = try await Harness()
        let endpoints = try await harness.session.bootstrap()
        #expect(endpoints.eventsURL == harness.simulator.baseURL + "/ucwa/oauth/v1/applications/101/events?ack=1")
        #expect(endpoints.applicationURL == harness.simulator.baseURL + "/ucwa/oauth/v1/applications/101")
        let stats = await harness.simulator.stats()
        #expect(
            stats.requests == [
                "GET /autodiscover/autodiscoverservice.svc/root",
                "GET /autodiscover/autodiscoverservice.svc/root/oauth/user?originalDomain=contoso.com",
                "POST /WebTicket/oauthtoken",
                "GET /autodiscover/autodiscoverservice.svc/root/oauth/user?originalDomain=contoso.com",
                "POST /ucwa/oauth/v1/applications",
            ]
        )
        #expect(stats.tokensIssued == 1 && stats.applicationsCreated == 1)
        _ = await harness.stop()
    }

    @Test func anUnquotedChallengeHrefIsFollowed() async throws {
        let harness = try await Harness(options: SimulatorOptions(unquotedChallengeHref: true))
        _ = try await harness.session.bootstrap()
        #expect(await harness.simulator.stats().tokensIssued == 1)
        _ = await harness.stop()
    }

    @Test func anAutodiscoverRedirectIsFollowed() async throws {
        let harness = try await Harness(options: SimulatorOptions(redirectAutodiscover: true))
        let endpoints = try await harness.session.bootstrap()
        #expect(endpoints.applicationsURL == harness.simulator.baseURL + "/pool2/ucwa/oauth/v1/applications")
        let requests = await harness.simulator.stats().requests
        #expect(
            requests.prefix(2) == [
                "GET /autodiscover/autodiscoverservice.svc/root",
                "GET /pool2/autodiscover/autodiscoverservice.svc/root",
            ]
        )
        _ = await harness.stop()
    }

    @Test func aUserRedirectToAnotherPoolGetsANewTokenThere() async throws {
        let harness = try await Harness(options: SimulatorOptions(redirectUser: true))
        let endpoints = try await harness.session.bootstrap()
        #expect(endpoints.eventsURL.hasPrefix(harness.simulator.baseURL + "/pool2/ucwa/oauth/v1/applications/"))
        let stats = await harness.simulator.stats()
        #expect(stats.tokensIssued == 2, "one token per pool")
        #expect(stats.requests.contains("POST /pool2/WebTicket/oauthtoken"))
        _ = await harness.stop()
    }

    @Test func aRejectedPasswordIsExitCode77NotALoop() async throws {
        let harness = try await Harness(password: "wrong")
        let failure = await #expect(throws: SessionFailure.self) { _ = try await harness.session.bootstrap() }
        #expect(failure?.exitCode == 77)
        #expect(failure?.description.contains("rejected the user name or password") == true)
        #expect(failure?.description.contains("wrong") == false, "the password never appears in a message")
        let stats = await harness.simulator.stats()
        #expect(stats.requests.filter { $0.hasPrefix("POST /WebTicket") }.count == 1)
        _ = await harness.stop()
    }

    @Test func theSameEndpointIdFindsTheSameApplication() async throws {
        let harness = try await Harness(endpointID: "stable-endpoint")
        let first = try await harness.session.bootstrap()
        let second = Session(
            client: harness.client,
            settings: harness.session.settings,
            credentials: Credentials(username: SimulatorOptions().username, password: SimulatorOptions().password),
            logger: Harness.quiet
        )
        #expect(try await second.bootstrap() == first)
        #expect(await harness.simulator.stats().applicationsCreated == 1)
        _ = await harness.stop()
    }

    @Test func theTokenIsRefreshedBeforeItExpires() async throws {
        // The server keeps the token far longer than the test runs: only the session's clock,
        // which the test steps, says that the token is due.
        let clock = SteppingClock()
        let harness = try await Harness(
            options: SimulatorOptions(tokenLifetime: .seconds(100)),
            clock: DaemonClock(clock)
        )
        _ = try await harness.session.bootstrap()
        let invitation = CurlRequest(
            url: harness.simulator.baseURL + "/ucwa/oauth/v1/applications/101/communication/participantInvitations/1"
        )
        clock.advance(by: .seconds(79))
        #expect(try await harness.session.send(invitation).status == 404)
        #expect(await harness.session.grants == 1, "the token is kept until 80 % of its lifetime")
        clock.advance(by: .seconds(1))
        // 80 % of the lifetime has passed: the next authorized request brings a new token first.
        let response = try await harness.session.send(invitation)
        #expect(response.status == 404, "no such invitation; but not 401")
        let stats = await harness.simulator.stats()
        #expect(stats.tokensIssued == 2)
        #expect(await harness.session.grants == 2)
        _ = await harness.stop()
    }

    @Test func any401GetsOneNewTokenAndOneRetry() async throws {
        let harness = try await Harness()
        _ = try await harness.session.bootstrap()
        let href = await harness.simulator.play(InvitationScript())
        await harness.simulator.inject(.revokeTokens)
        let response = try await harness.session.send(CurlRequest(url: harness.simulator.baseURL + href))
        #expect(response.status == 200)
        #expect(await harness.simulator.stats().tokensIssued == 2)
        _ = await harness.stop()
    }

    @Test func serverErrorsDuringSignInAreRetried() async throws {
        let harness = try await Harness()
        // A 503 on the first events poll is not part of sign-in; use a dead port for discovery instead.
        let dead = Session(
            client: harness.client,
            settings: SessionMachine.Settings(
                discoverURL: "http://127.0.0.1:1/root",
                username: "a@contoso.com",
                userAgent: "t",
                endpointID: "e",
                culture: "en-US"
            ),
            credentials: Credentials(username: "a@contoso.com", password: "x"),
            policy: RetryPolicy(
                initialDelay: .milliseconds(10),
                maximumDelay: .milliseconds(20),
                jitter: 0,
                maximumAttempts: 3
            ),
            logger: Harness.quiet
        )
        let failure = await #expect(throws: RetryBudgetSpent.self) { _ = try await dead.bootstrap() }
        #expect(failure?.operation == "sign-in")
        #expect(failure?.description.contains("gave up after 4 attempts") == true)
        #expect(failure?.description.contains("127.0.0.1:1") == true)
        _ = await harness.stop()
    }

    /// Issue 15, item 2: after a revocation, N concurrent GETs (the resolver's window) all get
    /// 401; the actor is reentrant while a grant is on the network, and each used to start its
    /// own. Now exactly one grant, shared by every waiter, and no POST to applications.
    @Test func concurrentRequestsAfterARevocationMakeExactlyOneGrant() async throws {
        let harness = try await Harness(options: SimulatorOptions(embedResources: false))
        _ = try await harness.session.bootstrap()
        var hrefs: [String] = []
        for _ in 0..<8 { hrefs.append(await harness.simulator.play(InvitationScript())) }
        await harness.simulator.inject(.revokeTokens)
        let session = harness.session
        let base = harness.simulator.baseURL
        let statuses = await withTaskGroup(of: Int.self) { group in
            for href in hrefs {
                group.addTask {
                    (try? await session.send(
                        CurlRequest(url: base + href, headers: [HTTPHeader("Accept", "application/json")])
                    ).status) ?? -1
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 8), "\(statuses)")
        let stats = await harness.simulator.stats()
        #expect(stats.tokensIssued == 2, "one grant at sign-in, exactly one after the revocation")
        #expect(await session.grants == 2)
        #expect(stats.requests.filter { $0.hasPrefix("POST /WebTicket") }.count == 2)
        #expect(
            stats.requests.filter { $0.hasPrefix("POST /ucwa/oauth/v1/applications") }.count == 1,
            "a re-authentication creates no application"
        )
        #expect(stats.applicationsCreated == 1)
        _ = await harness.stop()
    }

    /// A 401 before any token (no token URL known yet): the grant goes to the challenge's
    /// token endpoint. It used to run the whole bootstrap, which POSTs a new application.
    @Test func aReauthenticationWithoutATokenURLNeverCreatesAnApplication() async throws {
        let harness = try await Harness()
        let fresh = Session(
            client: harness.client,
            settings: harness.session.settings,
            credentials: Credentials(username: SimulatorOptions().username, password: SimulatorOptions().password),
            logger: Harness.quiet
        )
        let response = try await fresh.send(
            CurlRequest(
                url: harness.simulator.baseURL
                    + "/ucwa/oauth/v1/applications/101/communication/participantInvitations/1"
            )
        )
        #expect(response.status == 404, "authorized now; no such application")
        let stats = await harness.simulator.stats()
        #expect(stats.tokensIssued == 1)
        #expect(!stats.requests.contains { $0.hasPrefix("POST /ucwa/oauth/v1/applications") }, "\(stats.requests)")
        #expect(!stats.requests.contains { $0.hasPrefix("GET /autodiscover") }, "\(stats.requests)")
        _ = await harness.stop()
    }

    /// Issue 15, item 5, on a GET: 403 InvalidToken is a token problem: one new token, one retry.
    @Test func forbiddenInvalidTokenOnAGetGetsOneNewToken() async throws {
        let harness = try await Harness()
        _ = try await harness.session.bootstrap()
        let href = await harness.simulator.play(InvitationScript())
        await harness.simulator.inject(.answer(.invitation, status: 403, subcode: "InvalidToken"))
        let response = try await harness.session.send(CurlRequest(url: harness.simulator.baseURL + href))
        #expect(response.status == 200)
        #expect(await harness.simulator.stats().tokensIssued == 2)
        _ = await harness.stop()
    }

    /// 403 or 410 when creating the application: the server refuses this user or client;
    /// exit 76 (not restarted) with the subcode and what to do, not 75 and a restart forever.
    @Test(arguments: [(403, String?.none), (410, "TooManyApplications"), (410, "UserAgentNotAllowed")])
    func aRefusedApplicationIsExit76(status: Int, subcode: String?) async throws {
        let harness = try await Harness()
        await harness.simulator.inject(.answer(.applications, status: status, subcode: subcode))
        let failure = await #expect(throws: SessionFailure.self) { _ = try await harness.session.bootstrap() }
        #expect(failure?.exitCode == 76)
        #expect(
            failure?.description.contains("/ucwa/oauth/v1/applications: HTTP \(status)") == true,
            "\(String(describing: failure))"
        )
        #expect(failure?.description.contains("systemctl restart") == true)
        _ = await harness.stop()
    }
}
