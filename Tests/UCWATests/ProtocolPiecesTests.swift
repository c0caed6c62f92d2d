import Foundation
import StreamingJSON
import Testing
import UCWA

/// RFC 3986 §5.4 reference resolution, with UCWA's relative event hrefs.
@Suite struct HrefTests {
    static let base = "http://a/b/c/d;p?q"

    @Test(arguments: [
        ("g:h", "g:h"), ("g", "http://a/b/c/g"), ("./g", "http://a/b/c/g"), ("g/", "http://a/b/c/g/"),
        ("/g", "http://a/g"), ("//g", "http://g"), ("?y", "http://a/b/c/d;p?y"), ("g?y", "http://a/b/c/g?y"),
        ("#s", "http://a/b/c/d;p?q#s"), ("g#s", "http://a/b/c/g#s"), ("g?y#s", "http://a/b/c/g?y#s"),
        (";x", "http://a/b/c/;x"), ("g;x", "http://a/b/c/g;x"), ("", "http://a/b/c/d;p?q"), (".", "http://a/b/c/"),
        ("./", "http://a/b/c/"), ("..", "http://a/b/"), ("../", "http://a/b/"), ("../g", "http://a/b/g"),
        ("../..", "http://a/"), ("../../", "http://a/"), ("../../g", "http://a/g"),
        ("../../../g", "http://a/g"), ("../../../../g", "http://a/g"), ("/./g", "http://a/g"), ("/../g", "http://a/g"),
        ("g.", "http://a/b/c/g."), (".g", "http://a/b/c/.g"), ("g..", "http://a/b/c/g.."), ("..g", "http://a/b/c/..g"),
        ("./../g", "http://a/b/g"), ("./g/.", "http://a/b/c/g/"), ("g/./h", "http://a/b/c/g/h"), ("g/../h", "http://a/b/c/h"),
        ("g;x=1/./y", "http://a/b/c/g;x=1/y"), ("g;x=1/../y", "http://a/b/c/y"),
    ])
    func rfc3986Examples(reference: String, expected: String) {
        #expect(Href.resolve(reference, against: Self.base) == expected)
        // The per-batch base with its fast path for path-absolute hrefs gives the same.
        #expect(Href.Base(Self.base).resolve(reference) == expected)
    }

    @Test func aParsedBaseResolvesLikeTheFullAlgorithm() {
        let bases = ["https://lyncweb.contoso.com/ucwa/oauth/v1/applications/105/events?ack=1", "https://h:8443", "/relative/base", "http://a/b/c/d;p?q"]
        let references = ["/ucwa/x", "/ucwa/x?ack=2#f", "//other/x", "/a/./b", "/a/../b", "/", "x", "", "https://z/y", "/päth/ü",
                          "/x/p?endpointId=sip:a@b.contoso.com", "/x/p?q=/../y", "/x/p#/./f", "/a/.", "/a/..", "/.well-known/x", "/a/b./c", "/a.b/../c"]
        for base in bases {
            let parsed = Href.Base(base)
            // Parsed after a base on the same origin (or another one): the same results.
            let after = Href.Base(base, after: Href.Base("https://lyncweb.contoso.com/other?x"))
            for reference in references {
                #expect(after.resolve(reference) == Href.resolve(reference, against: base), "after: \(reference) against \(base)")
                #expect(parsed.resolve(reference) == Href.resolve(reference, against: base), "\(reference) against \(base)")
                #expect(parsed.resolve(UCWAText(reference)) == Href.resolve(reference, against: base), "text \(reference) against \(base)")
            }
        }
    }

    @Test func relativeEventHrefsResolveAgainstThePoolThatServedThem() {
        let request = "https://lyncweb.contoso.com/ucwa/oauth/v1/applications/105/events?ack=1&timeout=180"
        #expect(Href.resolve("/ucwa/oauth/v1/applications/105/events?ack=2", against: request)
            == "https://lyncweb.contoso.com/ucwa/oauth/v1/applications/105/events?ack=2")
        #expect(Href.resolve("https://other.contoso.com/x", against: request) == "https://other.contoso.com/x")
        #expect(Href.resolve("/x", against: "/relative/base") == nil)
    }

    @Test func timeoutIsAddedWithoutTouchingServerParameters() {
        let next = "/ucwa/oauth/v1/applications/105/events?ack=7&key=a%2Bb&instanceId=x"
        #expect(Href.settingQuery("timeout", to: "900", in: next)
            == "/ucwa/oauth/v1/applications/105/events?ack=7&key=a%2Bb&instanceId=x&timeout=900")
        #expect(Href.settingQuery("timeout", to: "900", in: "https://h/e?ack=1&timeout=180&low=5")
            == "https://h/e?ack=1&timeout=900&low=5")
        #expect(Href.settingQuery("timeout", to: "180", in: "https://h/events") == "https://h/events?timeout=180")
        #expect(Href.queryValue("ack", in: next) == "7")
        #expect(Href.queryValue("timeout", in: next) == nil)
    }

    @Test func hostAndOrigin() {
        #expect(Href.host(of: "https://User:pw@LyncWeb.Contoso.com:4443/x") == "lyncweb.contoso.com")
        #expect(Href.host(of: "http://[::1]:8080/") == "::1")
        #expect(Href.origin(of: "https://LyncWeb.contoso.com/ucwa?x") == "https://lyncweb.contoso.com")
    }
}

@Suite struct FormEncodingTests {
    @Test func passwordGrantBodyEscapesEverythingButUnreserved() {
        let body = FormEncoding.encode([("grant_type", "password"), ("username", "alice@contoso.com"), ("password", "p&ss w=rd+ü")])
        #expect(body == "grant_type=password&username=alice%40contoso.com&password=p%26ss+w%3Drd%2B%C3%BC")
    }
}

/// The MsRtcOAuth challenge in the shapes the docs and real servers send.
@Suite struct AuthChallengeTests {
    @Test func quotedHrefFromTheTutorial() throws {
        let challenge = try #require(AuthChallenge.parse(#"MsRtcOAuth href="https://lyncweb.contoso.com/WebTicket/oauthtoken",grant_type="urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password""#))
        #expect(challenge.href == "https://lyncweb.contoso.com/WebTicket/oauthtoken")
        #expect(challenge.grantTypes == ["urn:microsoft.rtc:windows", "urn:microsoft.rtc:anonmeeting", "password"])
        #expect(challenge.acceptsPassword)
    }

    @Test func unquotedHrefFromTheConceptPage() throws {
        let challenge = try #require(AuthChallenge.parse(#"MsRtcOAuth href=https://lyncweb.contoso.com/WebTicket/oauthtoken,grant_type="urn:microsoft.rtc:windows,password""#))
        #expect(challenge.href == "https://lyncweb.contoso.com/WebTicket/oauthtoken")
        #expect(challenge.grantTypes == ["urn:microsoft.rtc:windows", "password"])
    }

    @Test func severalHeadersBearerFirstAndSpacesAroundParameters() throws {
        let headers = [
            #"Bearer trusted_issuers="00000001-0000-0000-c000-000000000000@contoso.com", client_id="00000004-0000-0ff1-ce00-000000000000""#,
            #"msrtcoauth  HREF = "https://webdir0b.online.lync.com/WebTicket/oauthtoken" , grant_type="urn:microsoft.rtc:passive, urn:microsoft.rtc:anonmeeting""#,
        ]
        let challenge = try #require(AuthChallenge.find(in: headers))
        #expect(challenge.href == "https://webdir0b.online.lync.com/WebTicket/oauthtoken")
        #expect(challenge.grantTypes == ["urn:microsoft.rtc:passive", "urn:microsoft.rtc:anonmeeting"])
        #expect(!challenge.acceptsPassword)
    }

    @Test func theCapturedNodeUCWAHeaderWithBothChallengesInOneValue() throws {
        // Simple.saz (captures/INDEX.md): one header line holding both challenges.
        let value = #"Bearer trusted_issuers="...", client_id="00000004-0000-0ff1-ce00-000000000000", MsRtcOAuth href="https://lync.domain.com/WebTicket/oauthtoken",grant_type="urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password""#
        let challenge = try #require(AuthChallenge.find(in: [value]))
        #expect(challenge.href == "https://lync.domain.com/WebTicket/oauthtoken")
        #expect(challenge.acceptsPassword)
    }

    @Test func notAChallenge() {
        #expect(AuthChallenge.parse(#"Bearer realm="x""#) == nil)
        #expect(AuthChallenge.parse("MsRtcOAuth grant_type=\"password\"") == nil)
    }
}

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(initialDelay: .seconds(1), maximumDelay: .seconds(60), jitter: 0.25, maximumRetryAfter: .seconds(240), maximumAttempts: 5)

    @Test func doublesUpToTheCapWithJitterAroundIt() {
        #expect(policy.delay(attempt: 1, random: 0.5) == .seconds(1))
        #expect(policy.delay(attempt: 2, random: 0.5) == .seconds(2))
        #expect(policy.delay(attempt: 4, random: 0.5) == .seconds(8))
        #expect(policy.delay(attempt: 30, random: 0.5) == .seconds(60))
        #expect(policy.delay(attempt: 3, random: 0) == .seconds(3))
        #expect(policy.delay(attempt: 3, random: 1) == .seconds(5))
    }

    @Test func retryAfterIsALowerBoundClampedToTheIdleWindow() {
        #expect(policy.delay(attempt: 1, retryAfter: .seconds(30), random: 0.5) == .seconds(30))
        #expect(policy.delay(attempt: 7, retryAfter: .seconds(5), random: 0.5) == .seconds(60))
        #expect(policy.delay(attempt: 1, retryAfter: .seconds(3600), random: 0.5) == .seconds(240))
    }

    @Test func budget() {
        #expect(policy.allows(attempt: 5))
        #expect(!policy.allows(attempt: 6))
    }

    @Test func retryAfterHeaderForms() {
        #expect(RetryAfter.parse("120", now: 0) == .seconds(120))
        #expect(RetryAfter.parse(" 7 ", now: 0) == .seconds(7))
        // 784111777 is Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example).
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: 784_111_777 - 90) == .seconds(90))
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: 784_111_777 + 90) == .seconds(0))
        #expect(RetryAfter.parse("soon", now: 0) == nil)
        #expect(RetryAfter.parse(nil, now: 0) == nil)
    }
}

@Suite struct ResourceDocumentTests {
    @Test func linksAreFoundByRelNameWithOrWithoutPrefix() throws {
        let links = ResourceLinks(try .parse(#"{"_links":{"self":{"href":"/a"},"ms:rtc:saas:applications":{"href":"/apps"},"service:user":{"href":"/u"},"many":[{"href":"/m1"},{"href":"/m2"}]}}"#))
        #expect(links.href("applications") == "/apps")
        #expect(links.href("user") == "/u")
        #expect(links.href("many") == "/m1")
        #expect(links.href("redirect") == nil)
    }

    @Test func capturedAndDocumentedBootstrapDocuments() throws {
        let root = ResourceLinks(try .parse(TestData.bytes(TestData.ucwa.appendingPathComponent("captures/node-ucwa-saz/autodiscover_root_lyncdiscover.json"))))
        #expect(root.href("user") == "https://lync.domain.com/Autodiscover/AutodiscoverService.svc/root/oauth/user?originalDomain=domain.com")
        let redirect = ResourceLinks(try .parse(TestData.bytes(TestData.ucwa.appendingPathComponent("doc-samples/ucwa-autodiscover-redirect-response.json"))))
        #expect(redirect.href("redirect") == "https://contoso.com/Autodiscover/AutodiscoverService.svc/root")
        let token = try #require(TokenGrant.parse(TestData.bytes(TestData.ucwa.appendingPathComponent("doc-samples/ucwa-oauth-token-response-password-grant.json"))))
        #expect(token.accessToken.hasPrefix("cwt=") && token.expiresIn == 3600)
        let error = try #require(UCWAErrorBody.parse(TestData.bytes(TestData.ucwa.appendingPathComponent("doc-samples/ucwa-error-404-notfound-applicationnotfound.json"))))
        #expect(error.code == "NotFound" && error.subcode == "ApplicationNotFound")
        let oauth = try #require(UCWAErrorBody.parse(TestData.bytes(TestData.ucwa.appendingPathComponent("doc-samples/ucwa-oauth-error-400-invalid-grant-passive.json"))))
        #expect(oauth.code == "invalid_grant")
        #expect(UCWAErrorBody.parse(Array("<html>proxy error</html>".utf8)) == nil)
    }
}
