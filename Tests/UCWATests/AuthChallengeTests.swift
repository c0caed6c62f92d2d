import Testing

@testable import StreamingJSON
@testable import UCWA

/// The MsRtcOAuth challenge in the shapes the docs and real servers send.
@Suite struct AuthChallengeTests {
    @Test func quotedHrefFromTheTutorial() throws {
        let challenge = try #require(
            AuthChallenge.parse(
                #"MsRtcOAuth href="https://lyncweb.contoso.com/WebTicket/oauthtoken",grant_type="urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password""#
            )
        )
        #expect(challenge.href == "https://lyncweb.contoso.com/WebTicket/oauthtoken")
        #expect(challenge.grantTypes == ["urn:microsoft.rtc:windows", "urn:microsoft.rtc:anonmeeting", "password"])
        #expect(challenge.acceptsPassword)
    }

    @Test func unquotedHrefFromTheConceptPage() throws {
        let challenge = try #require(
            AuthChallenge.parse(
                #"MsRtcOAuth href=https://lyncweb.contoso.com/WebTicket/oauthtoken,grant_type="urn:microsoft.rtc:windows,password""#
            )
        )
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
        let value =
            #"Bearer trusted_issuers="...", client_id="00000004-0000-0ff1-ce00-000000000000", MsRtcOAuth href="https://lync.domain.com/WebTicket/oauthtoken",grant_type="urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password""#
        let challenge = try #require(AuthChallenge.find(in: [value]))
        #expect(challenge.href == "https://lync.domain.com/WebTicket/oauthtoken")
        #expect(challenge.acceptsPassword)
    }

    @Test func notAChallenge() {
        #expect(AuthChallenge.parse(#"Bearer realm="x""#) == nil)
        #expect(AuthChallenge.parse("MsRtcOAuth grant_type=\"password\"") == nil)
    }
}
