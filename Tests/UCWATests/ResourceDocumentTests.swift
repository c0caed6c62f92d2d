import Foundation
import Testing
import UCWATestSupport

@testable import StreamingJSON
@testable import UCWA

@Suite struct ResourceDocumentTests {
    @Test func linksAreFoundByRelNameWithOrWithoutPrefix() throws {
        let links = ResourceLinks(
            try .parse(
                #"{"_links":{"self":{"href":"/a"},"ms:rtc:saas:applications":{"href":"/apps"},"service:user":{"href":"/u"},"many":[{"href":"/m1"},{"href":"/m2"}]}}"#
            )
        )
        #expect(links.href("applications") == "/apps")
        #expect(links.href("user") == "/u")
        #expect(links.href("many") == "/m1")
        #expect(links.href("redirect") == nil)
    }

    @Test func capturedAndDocumentedBootstrapDocuments() throws {
        let root = ResourceLinks(
            try .parse(
                SharedTestData.bytes(
                    SharedTestData.ucwa.appendingPathComponent(
                        "captures/node-ucwa-saz/autodiscover_root_lyncdiscover.json"
                    )
                )
            )
        )
        #expect(
            root.href("user")
                == "https://lync.domain.com/Autodiscover/AutodiscoverService.svc/root/oauth/user?originalDomain=domain.com"
        )
        let redirect = ResourceLinks(
            try .parse(
                SharedTestData.bytes(
                    SharedTestData.ucwa.appendingPathComponent("doc-samples/ucwa-autodiscover-redirect-response.json")
                )
            )
        )
        #expect(redirect.href("redirect") == "https://contoso.com/Autodiscover/AutodiscoverService.svc/root")
        let token = try #require(
            TokenGrant.parse(
                SharedTestData.bytes(
                    SharedTestData.ucwa.appendingPathComponent(
                        "doc-samples/ucwa-oauth-token-response-password-grant.json"
                    )
                )
            )
        )
        #expect(token.accessToken.hasPrefix("cwt=") && token.expiresIn == 3600)
        let error = try #require(
            UCWAErrorBody.parse(
                SharedTestData.bytes(
                    SharedTestData.ucwa.appendingPathComponent(
                        "doc-samples/ucwa-error-404-notfound-applicationnotfound.json"
                    )
                )
            )
        )
        #expect(error.code == "NotFound" && error.subcode == "ApplicationNotFound")
        let oauth = try #require(
            UCWAErrorBody.parse(
                SharedTestData.bytes(
                    SharedTestData.ucwa.appendingPathComponent(
                        "doc-samples/ucwa-oauth-error-400-invalid-grant-passive.json"
                    )
                )
            )
        )
        #expect(oauth.code == "invalid_grant")
        #expect(UCWAErrorBody.parse(Array("<html>proxy error</html>".utf8)) == nil)
    }
}
