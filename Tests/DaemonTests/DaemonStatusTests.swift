import Testing

@testable import Eventd

/// The `STATUS=` texts: what each phase says, with no secret and no control character.
@Suite struct DaemonStatusTests {
    static let now = DaemonStatus.Moment(instant: .now, wallSeconds: 1_764_922_500)  // 2025-12-05 08:15:00 UTC

    static func later(_ seconds: Int64) -> DaemonStatus.Moment {
        DaemonStatus.Moment(instant: now.instant + .seconds(seconds), wallSeconds: now.wallSeconds + seconds)
    }

    @Test(arguments: [
        (
            "https://alice:secret@lyncdiscover.contoso.com:443/autodiscover/root?token=SECRET#frag",
            "https://lyncdiscover.contoso.com:443/autodiscover/root"
        ),
        (
            "http://127.0.0.1:8080/ucwa/oauth/v1/applications/101/events?ack=3&timeout=180",
            "http://127.0.0.1:8080/ucwa/oauth/v1/applications/101/events"
        ),
        ("https://host", "https://host"),
        ("https://host/\u{1B}[31mred\nline", "https://host/ [31mred line"),
    ])
    func urlsLoseUserInfoQueryFragmentAndControlCharacters(url: String, shown: String) {
        #expect(StatusText.url(url) == shown)
    }

    @Test func aLongPathIsCut() {
        let shown = StatusText.url("https://host/" + String(repeating: "a", count: 200))
        #expect(shown.count == "https://host".count + 80 && shown.hasSuffix("…"), "\(shown)")
    }

    @Test func urlsInsideAReasonAreSanitisedToo() {
        let reason = "http://u:pw@h/x?secret=1: Couldn't connect (curl error 7): Failed\nto connect"
        #expect(StatusText.scrub(reason) == "http://h/x: Couldn't connect (curl error 7): Failed to connect")
    }

    @Test func eachPhaseSaysWhatItWaitsForAndUntilWhen() {
        func render(_ phase: DaemonStatus.Phase, records: Int = 0, lastBatch: DaemonStatus.Moment? = nil) -> String {
            DaemonStatus.render(phase, records: records, lastBatch: lastBatch, now: Self.now)
        }
        #expect(render(.starting) == "starting")
        #expect(render(.signingIn(url: "https://h/root?x=1")) == "signing in to https://h/root")
        #expect(
            render(
                .signInWaiting(
                    url: "https://h/root",
                    reason: "connection refused or unreachable",
                    retryAt: Self.later(30)
                )
            )
                == "signing in to https://h/root: connection refused or unreachable; next try in 30 s (at 08:15:30 UTC)"
        )
        #expect(
            render(.signInWaiting(url: "https://h/token", reason: "HTTP 503", retryAt: Self.later(1800)))
                == "signing in to https://h/token: HTTP 503; next try in 30 min (at 08:45:00 UTC)"
        )
        #expect(render(.polling) == "polling; 0 records written; no batch yet")
        #expect(
            render(.polling, records: 1204, lastBatch: Self.later(-95))
                == "polling; 1204 records written; last batch 95 s ago (at 08:13:25 UTC)"
        )
        #expect(
            render(.polling, records: 3, lastBatch: Self.later(-4 * 3600))
                == "polling; 3 records written; last batch 4 h ago (at 04:15:00 UTC)"
        )
        #expect(
            render(
                .channelWaiting(url: "https://h/events?ack=2", reason: "HTTP 503", retryAt: Self.later(8)),
                records: 7
            )
                == "polling https://h/events failed: HTTP 503; next try in 8 s (at 08:15:08 UTC); 7 records written"
        )
        #expect(
            render(.anotherConsumer(url: "https://h/events", retryAt: Self.later(4))).hasPrefix(
                "another consumer polls this application (409 PGetReplaced at https://h/events): stop the other ucwa-eventd or client signed in as this user; next try in 4 s"
            )
        )
        #expect(render(.stopping) == "stopping")
        // A retry time already passed says 0 s, never a negative wait.
        #expect(
            render(.signInWaiting(url: "https://h", reason: "timed out", retryAt: Self.later(-3))).contains(
                "next try in 0 s"
            )
        )
    }

    @Test func theTextIsCapped() {
        let text = DaemonStatus.render(
            .signInWaiting(url: "https://h", reason: String(repeating: "x", count: 1000), retryAt: Self.now),
            records: 0,
            lastBatch: nil,
            now: Self.now
        )
        #expect(text.count == 300 && text.hasSuffix("…"))
    }
}
