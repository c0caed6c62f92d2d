import Foundation
import Testing
import UCWATestSupport

@testable import Loopback
@testable import UCWA

/// The bootstrap, input by input, with documents captured from a real on-premises server
/// (captures/node-ucwa-saz) and from the docs.
@Suite struct SessionMachineTests {
    static let settings = SessionMachine.Settings(
        discoverURL: "https://lyncdiscover.domain.com/",
        username: "test.user1@domain.com",
        userAgent: "ucwa-eventd/1.0",
        endpointID: "0b4c6a1e-1111-2222-3333-444455556666",
        culture: "en-US"
    )
    static let challenge = [
        ("WWW-Authenticate", #"Bearer trusted_issuers="x", client_id="00000004-0000-0ff1-ce00-000000000000""#),
        (
            "WWW-Authenticate",
            #"MsRtcOAuth href="https://lync.domain.com/WebTicket/oauthtoken",grant_type="urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password""#
        ),
    ]

    func capture(_ name: String) -> [UInt8] {
        SharedTestData.bytes(SharedTestData.ucwa.appendingPathComponent("captures/node-ucwa-saz/\(name)"))
    }

    @Test func theWholeBootstrapWithCapturedDocuments() throws {
        var machine = SessionMachine(settings: Self.settings)
        #expect(machine.start() == .get("https://lyncdiscover.domain.com/", authorized: false))
        let user =
            "https://lync.domain.com/Autodiscover/AutodiscoverService.svc/root/oauth/user?originalDomain=domain.com"
        #expect(
            machine.received(
                status: 200,
                headers: [],
                body: capture("autodiscover_root_lyncdiscover.json"),
                url: "https://lyncdiscover.domain.com/"
            )
                == .get(user, authorized: false)
        )
        #expect(
            machine.received(status: 401, headers: Self.challenge, body: Array("<html/>".utf8), url: user)
                == .requestToken("https://lync.domain.com/WebTicket/oauthtoken")
        )
        #expect(machine.tokenGranted() == .get(user, authorized: true))
        let action = machine.received(status: 200, headers: [], body: capture("user_resource_oauth.json"), url: user)
        guard case .createApplication(let applications, let body) = action else {
            Issue.record("expected createApplication, got \(action)")
            return
        }
        #expect(applications == "https://lync.domain.com/ucwa/oauth/v1/applications")
        #expect(
            String(decoding: body, as: UTF8.self)
                == #"{"userAgent":"ucwa-eventd/1.0","endpointId":"0b4c6a1e-1111-2222-3333-444455556666","culture":"en-US"}"#
        )
        #expect(
            machine.received(
                status: 201,
                headers: [],
                body: capture("application_resource_201.json"),
                url: applications
            )
                == .ready(
                    ApplicationEndpoints(
                        applicationURL: "https://lync.domain.com/ucwa/oauth/v1/applications/103753940963",
                        eventsURL: "https://lync.domain.com/ucwa/oauth/v1/applications/103753940963/events?ack=1",
                        applicationsURL: applications
                    )
                )
        )
    }

    @Test func aRedirectOverHTTPSIsFollowed() {
        var machine = SessionMachine(settings: Self.settings)
        _ = machine.start()
        let body = SharedTestData.bytes(
            SharedTestData.ucwa.appendingPathComponent("doc-samples/ucwa-autodiscover-redirect-response.json")
        )
        #expect(
            machine.received(status: 200, headers: [], body: body, url: "https://lyncdiscover.domain.com/")
                == .get("https://contoso.com/Autodiscover/AutodiscoverService.svc/root", authorized: false)
        )
    }

    /// One loopback table for the redirect check and the HTTP client (both use `LoopbackHost`).
    static let loopbackTable: [(host: String, loopback: Bool)] = [
        ("127.0.0.1", true), ("127.255.0.9", true), ("LOCALHOST", true), ("localhost", true), ("::1", true),
        ("[::1]", true),
        ("127.evil.example", false), ("127.0.0.1.evil.example", false), ("127.1", false), ("0x7f.0.0.1", false),
        ("127.0.0.256", false), ("127.0.0.", false), ("128.0.0.1", false), ("localhost.evil.example", false),
        ("::2", false),
    ]

    @Test(arguments: loopbackTable)
    func loopbackIsNumeric127OrIPv6OneOrLocalhost(host: String, loopback: Bool) {
        #expect(LoopbackHost.contains(host) == loopback)
        let url = host.contains(":") && !host.hasPrefix("[") ? "http://[\(host)]:8080/root" : "http://\(host):8080/root"
        #expect(
            SessionMachine.redirectAllowed(from: url, to: "http://elsewhere.example/root", signInDomain: "domain.com")
                == loopback,
            "\(url)"
        )
    }

    @Test func aRedirectOverPlainHTTPMayNotLeaveTheSignInDomain() {
        #expect(
            SessionMachine.redirectAllowed(
                from: "http://lyncdiscover.domain.com/",
                to: "https://pool.domain.com/root",
                signInDomain: "domain.com"
            )
        )
        #expect(
            SessionMachine.redirectAllowed(
                from: "http://lyncdiscover.domain.com/",
                to: "https://domain.com/root",
                signInDomain: "domain.com"
            )
        )
        #expect(
            !SessionMachine.redirectAllowed(
                from: "http://lyncdiscover.domain.com/",
                to: "https://evil.com/root",
                signInDomain: "domain.com"
            )
        )
        #expect(
            !SessionMachine.redirectAllowed(
                from: "http://lyncdiscover.domain.com/",
                to: "https://notdomain.com/root",
                signInDomain: "domain.com"
            )
        )
        #expect(
            SessionMachine.redirectAllowed(
                from: "https://lyncdiscover.domain.com/",
                to: "https://other.net/root",
                signInDomain: "domain.com"
            )
        )
        #expect(
            SessionMachine.redirectAllowed(
                from: "http://127.0.0.1:8080/root",
                to: "http://127.0.0.1:8080/pool2/root",
                signInDomain: "domain.com"
            )
        )

        var machine = SessionMachine(
            settings: SessionMachine.Settings(
                discoverURL: "http://lyncdiscover.domain.com/",
                username: "a@domain.com",
                userAgent: "u",
                endpointID: "e",
                culture: "en-US"
            )
        )
        _ = machine.start()
        let body = Array(#"{"_links":{"redirect":{"href":"https://evil.example/root"}}}"#.utf8)
        #expect(
            machine.received(status: 200, headers: [], body: body, url: "http://lyncdiscover.domain.com/")
                == .fail(.redirectRefused(from: "http://lyncdiscover.domain.com/", to: "https://evil.example/root"))
        )
        #expect(machine.state == .failed)
    }

    @Test func redirectLoopsEnd() {
        var machine = SessionMachine(settings: Self.settings)
        _ = machine.start()
        let body = Array(#"{"_links":{"redirect":{"href":"https://lyncdiscover.domain.com/"}}}"#.utf8)
        var last = SessionAction.get("", authorized: false)
        for _ in 0..<6 {
            last = machine.received(status: 200, headers: [], body: body, url: "https://lyncdiscover.domain.com/")
        }
        #expect(last == .fail(.tooManyRedirects(url: "https://lyncdiscover.domain.com/")))
    }

    @Test func aUserRedirectToAnotherPoolStartsOverThereAndGetsANewToken() {
        var machine = SessionMachine(settings: Self.settings)
        _ = machine.start()
        let root = Array(#"{"_links":{"user":{"href":"https://pool1.domain.com/user"}}}"#.utf8)
        _ = machine.received(status: 200, headers: [], body: root, url: "https://lyncdiscover.domain.com/")
        _ = machine.received(status: 401, headers: Self.challenge, body: [], url: "https://pool1.domain.com/user")
        _ = machine.tokenGranted()
        let redirect = Array(#"{"_links":{"redirect":{"href":"https://pool2.domain.com/root"}}}"#.utf8)
        #expect(
            machine.received(status: 200, headers: [], body: redirect, url: "https://pool1.domain.com/user")
                == .get("https://pool2.domain.com/root", authorized: false)
        )
        let root2 = Array(#"{"_links":{"user":{"href":"/user"}}}"#.utf8)
        // The token of pool 1 is offered; pool 2 challenges; a new token is requested there.
        #expect(
            machine.received(status: 200, headers: [], body: root2, url: "https://pool2.domain.com/root")
                == .get("https://pool2.domain.com/user", authorized: true)
        )
        let challenge2 = [
            (
                "WWW-Authenticate",
                "MsRtcOAuth href=https://pool2.domain.com/WebTicket/oauthtoken,grant_type=\"password\""
            )
        ]
        #expect(
            machine.received(status: 401, headers: challenge2, body: [], url: "https://pool2.domain.com/user")
                == .requestToken("https://pool2.domain.com/WebTicket/oauthtoken")
        )
    }

    @Test func aRejectedPasswordIsAClearFailureWithExitCode77() {
        var machine = SessionMachine(settings: Self.settings)
        _ = machine.start()
        _ = machine.received(
            status: 200,
            headers: [],
            body: capture("autodiscover_root_lyncdiscover.json"),
            url: "https://lyncdiscover.domain.com/"
        )
        _ = machine.received(status: 401, headers: Self.challenge, body: [], url: "https://lync.domain.com/user")
        let action = machine.tokenRefused(status: 400, body: Array(#"{"error":"invalid_grant"}"#.utf8))
        #expect(
            action
                == .fail(
                    .credentialsRejected(url: "https://lync.domain.com/WebTicket/oauthtoken", error: "invalid_grant")
                )
        )
        if case .fail(let failure) = action {
            #expect(failure.exitCode == 77)
            #expect(failure.description.contains("rejected the user name or password"))
        }
    }

    @Test func aServerWithoutThePasswordGrantIsRefusedClearly() {
        var machine = SessionMachine(settings: Self.settings)
        _ = machine.start()
        _ = machine.received(
            status: 200,
            headers: [],
            body: capture("autodiscover_root_lyncdiscover.json"),
            url: "https://lyncdiscover.domain.com/"
        )
        let passive = [
            ("WWW-Authenticate", #"MsRtcOAuth href="https://x/oauthtoken",grant_type="urn:microsoft.rtc:passive""#)
        ]
        let user =
            "https://lync.domain.com/Autodiscover/AutodiscoverService.svc/root/oauth/user?originalDomain=domain.com"
        #expect(
            machine.received(status: 401, headers: passive, body: [], url: user)
                == .fail(.noPasswordGrant(url: user, offered: ["urn:microsoft.rtc:passive"]))
        )
    }

    @Test func aFreshTokenRefusedAgainIsALoopNotARetryForever() {
        var machine = SessionMachine(settings: Self.settings)
        _ = machine.start()
        _ = machine.received(
            status: 200,
            headers: [],
            body: capture("autodiscover_root_lyncdiscover.json"),
            url: "https://lyncdiscover.domain.com/"
        )
        let user =
            "https://lync.domain.com/Autodiscover/AutodiscoverService.svc/root/oauth/user?originalDomain=domain.com"
        for _ in 0..<2 {
            #expect(
                machine.received(status: 401, headers: Self.challenge, body: [], url: user)
                    == .requestToken("https://lync.domain.com/WebTicket/oauthtoken")
            )
            #expect(machine.tokenGranted() == .get(user, authorized: true))
        }
        #expect(
            machine.received(status: 401, headers: Self.challenge, body: [], url: user)
                == .fail(.authenticationLoop(url: user))
        )
    }

    @Test func serverErrorsAreRetriedLater() {
        var machine = SessionMachine(settings: Self.settings)
        _ = machine.start()
        #expect(
            machine.received(
                status: 503,
                headers: [("Retry-After", "12")],
                body: [],
                url: "https://lyncdiscover.domain.com/"
            )
                == .retryLater(retryAfter: .seconds(12), reason: "https://lyncdiscover.domain.com/: HTTP 503")
        )
        #expect(machine.state == .fetchingRoot(url: "https://lyncdiscover.domain.com/"))
    }

    @Test func aRootWithoutUsableLinksIsAClearError() {
        var machine = SessionMachine(settings: Self.settings)
        _ = machine.start()
        #expect(
            machine.received(status: 200, headers: [], body: Array("{}".utf8), url: "https://lyncdiscover.domain.com/")
                == .fail(
                    .unexpectedDocument(
                        url: "https://lyncdiscover.domain.com/",
                        detail: "the autodiscover answer has neither a user nor a redirect link"
                    )
                )
        )
    }
}
