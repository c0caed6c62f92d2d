import Testing
import UCWA

/// The event channel's decisions, input by input, without sockets or clocks.
@Suite struct EventChannelMachineTests {
    static let first = "https://pool.contoso.com/ucwa/oauth/v1/applications/105/events?ack=1"
    static let policy = RetryPolicy(initialDelay: .seconds(1), maximumDelay: .seconds(60), jitter: 0.25, maximumRetryAfter: .seconds(240), maximumAttempts: 4)

    func started() -> EventChannelMachine {
        var machine = EventChannelMachine(timeoutSeconds: 900, policy: Self.policy)
        #expect(machine.start(eventsURL: Self.first) == [.poll(Self.first + "&timeout=900")])
        return machine
    }

    @Test func followsNextVerbatimAndAddsOnlyTheTimeout() {
        var machine = started()
        let actions = machine.pollEnded(.batch(next: "/ucwa/oauth/v1/applications/105/events?ack=2&key=opaque", resume: nil, resync: nil), random: 0.5)
        #expect(actions == [.poll("https://pool.contoso.com/ucwa/oauth/v1/applications/105/events?ack=2&key=opaque&timeout=900")])
        #expect(machine.state == .polling(url: "https://pool.contoso.com/ucwa/oauth/v1/applications/105/events?ack=2&key=opaque&timeout=900"))
    }

    @Test func aTimeoutTheServerPutInTheHrefIsKept() {
        var machine = started()
        let actions = machine.pollEnded(.batch(next: "/e?ack=2&timeout=1800", resume: nil, resync: nil), random: 0.5)
        #expect(actions == [.poll("https://pool.contoso.com/e?ack=2&timeout=1800")])
    }

    @Test func resyncWinsAndIsReportedAsAReset() {
        var machine = started()
        let actions = machine.pollEnded(.batch(next: "/e?ack=9", resume: "/e?ack=8", resync: "/e?ack=3"), random: 0.5)
        #expect(actions == [.reset(.resync), .poll("https://pool.contoso.com/e?ack=3&timeout=900")])
    }

    @Test func resumeReSendsTheQueryParametersAndIsReportedAsAReset() {
        var machine = started()
        let actions = machine.pollEnded(.batch(next: nil, resume: "/e?ack=2", resync: nil), random: 0.5)
        #expect(actions == [.reset(.resume), .poll("https://pool.contoso.com/e?ack=2&timeout=900")])
    }

    @Test func baseURIOfTheBatchResolvesItsHrefs() {
        var machine = started()
        let actions = machine.pollEnded(.batch(next: "v1/e?ack=2", resume: nil, resync: nil, baseURI: "https://tap.contoso.com/platformservice/"), random: 0.5)
        #expect(actions == [.poll("https://tap.contoso.com/platformservice/v1/e?ack=2&timeout=900")])
    }

    @Test func applicationNotFoundMeansANewApplicationAndAReset() {
        var machine = started()
        #expect(machine.pollEnded(.status(404, subcode: "ApplicationNotFound", retryAfter: nil), random: 0.5) == [.createApplication(.applicationNotFound)])
        #expect(machine.state == .recreatingApplication)
        #expect(machine.applicationCreated(eventsURL: "https://pool.contoso.com/a/106/events?ack=1", reason: .applicationNotFound)
            == [.reset(.applicationNotFound), .poll("https://pool.contoso.com/a/106/events?ack=1&timeout=900")])
    }

    @Test func inactiveApplicationExpiredMeansANewApplication() {
        var machine = started()
        #expect(machine.pollEnded(.status(410, subcode: "InactiveApplicationExpired", retryAfter: nil), random: 0.5) == [.createApplication(.applicationExpired)])
    }

    @Test func otherGoneSubcodesCannotBeFixedByRetrying() {
        var machine = started()
        let actions = machine.pollEnded(.status(410, subcode: "TooManyApplications", retryAfter: nil), random: 0.5)
        guard case .giveUp(let reason)? = actions.first else {
            Issue.record("expected giveUp, got \(actions)")
            return
        }
        #expect(reason.contains("TooManyApplications"))
        #expect(machine.state == .stopped)
    }

    @Test func pGetReplacedIsAnotherConsumerThenBackoff() {
        var machine = started()
        let actions = machine.pollEnded(.status(409, subcode: "PGetReplaced", retryAfter: nil), random: 0.5)
        #expect(actions.first == .anotherConsumer)
        #expect(actions.dropFirst().first == .wait(.seconds(1), reason: "HTTP 409 PGetReplaced: another consumer polls this application"))
        #expect(machine.backoffElapsed() == [.poll(Self.first + "&timeout=900")])
    }

    @Test func serverErrorsRetryTheSameURLWithGrowingDelaysHonouringRetryAfter() {
        var machine = started()
        let url = Self.first + "&timeout=900"
        #expect(machine.pollEnded(.status(500, subcode: nil, retryAfter: nil), random: 0.5) == [.wait(.seconds(1), reason: "HTTP 500")])
        #expect(machine.backoffElapsed() == [.poll(url)])
        #expect(machine.pollEnded(.status(503, subcode: nil, retryAfter: .seconds(30)), random: 0.5) == [.wait(.seconds(30), reason: "HTTP 503")])
        #expect(machine.backoffElapsed() == [.poll(url)])
        #expect(machine.pollEnded(.status(429, subcode: nil, retryAfter: nil), random: 0.5) == [.wait(.seconds(4), reason: "HTTP 429")])
        #expect(machine.backoffElapsed() == [.poll(url)])
        #expect(machine.pollEnded(.transport(description: "connection reset", retryable: true), random: 0.5) == [.wait(.seconds(8), reason: "connection reset")])
        #expect(machine.backoffElapsed() == [.poll(url)])
        // The fifth failure in a row is over the budget of 4.
        let last = machine.pollEnded(.transport(description: "connection reset", retryable: true), random: 0.5)
        guard case .giveUp(let reason)? = last.first else {
            Issue.record("expected giveUp, got \(last)")
            return
        }
        #expect(reason.contains("gave up after 5 attempts"))
    }

    @Test func aGoodBatchResetsTheFailureCount() {
        var machine = started()
        _ = machine.pollEnded(.status(500, subcode: nil, retryAfter: nil), random: 0.5)
        _ = machine.backoffElapsed()
        _ = machine.pollEnded(.batch(next: "/e?ack=2", resume: nil, resync: nil), random: 0.5)
        #expect(machine.failures == 0)
        #expect(machine.pollEnded(.status(500, subcode: nil, retryAfter: nil), random: 0.5) == [.wait(.seconds(1), reason: "HTTP 500")])
    }

    @Test func unauthorizedGetsANewTokenAndTheSameURL() {
        var machine = started()
        #expect(machine.pollEnded(.status(401, subcode: nil, retryAfter: nil), random: 0.5) == [.reauthenticate])
        #expect(machine.reauthenticated() == [.poll(Self.first + "&timeout=900")])
    }

    @Test func fatalTransportErrorsStopAtOnce() {
        var machine = started()
        #expect(machine.pollEnded(.transport(description: "certificate not trusted", retryable: false), random: 0.5) == [.giveUp("certificate not trusted")])
    }

    @Test func aMalformedBatchIsRetriedThenSkippedOnlyWhenItsNextIsKnown() {
        var machine = started()
        let url = Self.first + "&timeout=900"
        #expect(machine.pollEnded(.malformed(description: "bad", next: "/e?ack=2"), random: 0.5) == [.wait(.seconds(1), reason: "bad")])
        _ = machine.backoffElapsed()
        #expect(machine.pollEnded(.malformed(description: "bad", next: "/e?ack=2"), random: 0.5) == [.wait(.seconds(2), reason: "bad")])
        _ = machine.backoffElapsed()
        #expect(machine.pollEnded(.malformed(description: "bad", next: "/e?ack=2"), random: 0.5)
            == [.skipMalformed(url: url, next: "https://pool.contoso.com/e?ack=2", description: "bad"),
                .poll("https://pool.contoso.com/e?ack=2&timeout=900")])
    }

    @Test func aMalformedBatchWithoutANextIsNeverSkipped() {
        var machine = EventChannelMachine(timeoutSeconds: 180, policy: RetryPolicy(maximumAttempts: 10))
        _ = machine.start(eventsURL: Self.first)
        for _ in 0..<6 {
            let actions = machine.pollEnded(.malformed(description: "bad", next: nil), random: 0.5)
            guard case .wait? = actions.first else {
                Issue.record("expected wait, got \(actions)")
                return
            }
            _ = machine.backoffElapsed()
        }
    }

    @Test func aBatchWithoutAnyLinkIsRetried() {
        var machine = started()
        #expect(machine.pollEnded(.batch(next: nil, resume: nil, resync: nil), random: 0.5) == [.wait(.seconds(1), reason: "the batch has no next, resume or resync link")])
    }

    @Test func inputsThatDoNotFitTheStateAreIgnored() {
        var machine = started()
        #expect(machine.backoffElapsed() == [])
        #expect(machine.reauthenticated() == [])
        #expect(machine.applicationCreated(eventsURL: "https://x/e", reason: .resync) == [])
        machine.stop()
        #expect(machine.pollEnded(.batch(next: "/e?ack=2", resume: nil, resync: nil), random: 0.5) == [])
    }
}
