import Testing

@testable import UCWA

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
        ("./../g", "http://a/b/g"), ("./g/.", "http://a/b/c/g/"), ("g/./h", "http://a/b/c/g/h"),
        ("g/../h", "http://a/b/c/h"),
        ("g;x=1/./y", "http://a/b/c/g;x=1/y"), ("g;x=1/../y", "http://a/b/c/y"),
    ])
    func rfc3986Examples(reference: String, expected: String) {
        #expect(Href.resolve(reference, against: Self.base) == expected)
        // The per-batch base with its fast path for path-absolute hrefs gives the same.
        #expect(Href.Base(Self.base).resolve(reference) == expected)
    }

    @Test func aParsedBaseResolvesLikeTheFullAlgorithm() {
        let bases = [
            "https://lyncweb.contoso.com/ucwa/oauth/v1/applications/105/events?ack=1", "https://h:8443",
            "/relative/base", "http://a/b/c/d;p?q",
        ]
        let references = [
            "/ucwa/x", "/ucwa/x?ack=2#f", "//other/x", "/a/./b", "/a/../b", "/", "x", "", "https://z/y", "/päth/ü",
            "/x/p?endpointId=sip:a@b.contoso.com", "/x/p?q=/../y", "/x/p#/./f", "/a/.", "/a/..", "/.well-known/x",
            "/a/b./c", "/a.b/../c",
        ]
        for base in bases {
            let parsed = Href.Base(base)
            // Parsed after a base on the same origin (or another one): the same results.
            let after = Href.Base(base, after: Href.Base("https://lyncweb.contoso.com/other?x"))
            for reference in references {
                #expect(
                    after.resolve(reference) == Href.resolve(reference, against: base),
                    "after: \(reference) against \(base)"
                )
                #expect(
                    parsed.resolve(reference) == Href.resolve(reference, against: base),
                    "\(reference) against \(base)"
                )
                #expect(
                    parsed.resolve(UCWAText(reference)) == Href.resolve(reference, against: base),
                    "text \(reference) against \(base)"
                )
            }
        }
    }

    @Test func relativeEventHrefsResolveAgainstThePoolThatServedThem() {
        let request = "https://lyncweb.contoso.com/ucwa/oauth/v1/applications/105/events?ack=1&timeout=180"
        #expect(
            Href.resolve("/ucwa/oauth/v1/applications/105/events?ack=2", against: request)
                == "https://lyncweb.contoso.com/ucwa/oauth/v1/applications/105/events?ack=2"
        )
        #expect(Href.resolve("https://other.contoso.com/x", against: request) == "https://other.contoso.com/x")
        #expect(Href.resolve("/x", against: "/relative/base") == nil)
    }

    @Test func timeoutIsAddedWithoutTouchingServerParameters() {
        let next = "/ucwa/oauth/v1/applications/105/events?ack=7&key=a%2Bb&instanceId=x"
        #expect(
            Href.settingQuery("timeout", to: "900", in: next)
                == "/ucwa/oauth/v1/applications/105/events?ack=7&key=a%2Bb&instanceId=x&timeout=900"
        )
        #expect(
            Href.settingQuery("timeout", to: "900", in: "https://h/e?ack=1&timeout=180&low=5")
                == "https://h/e?ack=1&timeout=900&low=5"
        )
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
