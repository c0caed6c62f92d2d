import Testing

@testable import UCWA

/// Drives the machine as the shell does: each input answers the action that asked for it (the
/// ticket comes from that action); actions are compared as short texts.
struct ChannelDriver {
    var machine: EventChannelMachine
    var last: [ChannelAction] = []

    init(timeoutSeconds: Int = 900, policy: RetryPolicy = EventChannelMachineTests.policy) {
        machine = EventChannelMachine(timeoutSeconds: timeoutSeconds, policy: policy)
    }

    static func text(_ action: ChannelAction) -> String {
        switch action {
        case .poll(let request): "poll \(request.url)"
        case .wait(let backoff): "wait \(milliseconds(backoff.delay))ms then \(backoff.url): \(backoff.reason)"
        case .reset(let reason, let merged, let replacement):
            "reset \(reason.rawValue) x\(merged)"
                + (replacement.map { " \($0.previousApplication) -> \($0.endpoints.applicationURL)" } ?? "")
        case .createApplication(let request): "createApplication \(request.reason.rawValue) after \(request.url)"
        case .reauthenticate(let request): "reauthenticate \(request.status) \(request.url)"
        case .rediscover(let request): "rediscover \(request.subcode ?? "-") \(request.url)"
        case .anotherConsumer(let url): "anotherConsumer \(url)"
        case .skipMalformed(let url, let next, let description): "skip \(url) -> \(next): \(description)"
        case .stop(let stop): "stop \(stop.exitCode): \(stop)"
        }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    private mutating func keep(_ actions: [ChannelAction]) -> [String] {
        last = actions
        return actions.map(Self.text)
    }

    mutating func start(_ url: String) -> [String] { keep(machine.start(eventsURL: url)) }

    var poll: PollRequest? { last.compactMap { if case .poll(let request) = $0 { request } else { nil } }.last }
    var backoff: Backoff? { last.compactMap { if case .wait(let backoff) = $0 { backoff } else { nil } }.last }
    var reauthentication: Reauthentication? {
        last.compactMap { if case .reauthenticate(let r) = $0 { r } else { nil } }.last
    }
    var rediscovery: Rediscovery? { last.compactMap { if case .rediscover(let r) = $0 { r } else { nil } }.last }
    var recreation: Recreation? { last.compactMap { if case .createApplication(let r) = $0 { r } else { nil } }.last }
    var stop: ChannelStop? { last.compactMap { if case .stop(let stop) = $0 { stop } else { nil } }.last }

    mutating func end(_ outcome: PollOutcome, handedOver: Int = 0, random: Double = 0.5) -> [String] {
        guard let poll else {
            Issue.record("no poll pending: \(last.map(Self.text))")
            return []
        }
        return keep(machine.pollEnded(poll, outcome, handedOver: handedOver, random: random))
    }

    mutating func elapse() -> [String] {
        guard let backoff else {
            Issue.record("no wait pending: \(last.map(Self.text))")
            return []
        }
        return keep(machine.backoffElapsed(backoff))
    }

    mutating func reauthenticated() -> [String] { keep(machine.reauthenticated(reauthentication!)) }
    /// The application polled before a rediscovery or a new application.
    static let application = "https://pool.contoso.com/ucwa/oauth/v1/applications/105"

    static func endpoints(application: String, events: String) -> ApplicationEndpoints {
        ApplicationEndpoints(
            applicationURL: application,
            eventsURL: events,
            applicationsURL: "https://pool.contoso.com/ucwa/oauth/v1/applications"
        )
    }

    /// nil: the rediscovery found the same application.
    mutating func rediscovered(newEventsURL: String?) -> [String] {
        let found =
            newEventsURL.map { Self.endpoints(application: "https://pool2.contoso.com/a/7", events: $0) }
            ?? Self.endpoints(application: Self.application, events: EventChannelMachineTests.first)
        return keep(machine.rediscovered(rediscovery!, found: found, previousApplication: Self.application))
    }
    mutating func applicationCreated(_ url: String) -> [String] {
        let created = Self.endpoints(application: "https://pool.contoso.com/a/106", events: url)
        return keep(machine.applicationCreated(recreation!, created: created, previousApplication: Self.application))
    }
}

/// The event channel's decisions, input by input, without sockets or clocks.
@Suite struct EventChannelMachineTests {
    static let first = "https://pool.contoso.com/ucwa/oauth/v1/applications/105/events?ack=1"
    static let firstURL = first + "&timeout=900"
    static let policy = RetryPolicy(
        initialDelay: .seconds(1),
        maximumDelay: .seconds(60),
        jitter: 0.25,
        maximumRetryAfter: .seconds(240),
        maximumAttempts: 4
    )

    func started() -> ChannelDriver {
        var driver = ChannelDriver()
        #expect(driver.start(Self.first) == ["poll \(Self.firstURL)"])
        return driver
    }

    @Test func followsNextVerbatimAndAddsOnlyTheTimeout() {
        var driver = started()
        #expect(
            driver.end(
                .batch(
                    BatchLinks(
                        next: "/ucwa/oauth/v1/applications/105/events?ack=2&key=opaque",
                        resume: nil,
                        resync: nil
                    )
                )
            )
                == ["poll https://pool.contoso.com/ucwa/oauth/v1/applications/105/events?ack=2&key=opaque&timeout=900"]
        )
        #expect(driver.poll?.timeoutSeconds == 900)
    }

    @Test func aTimeoutTheServerPutInTheHrefIsKept() {
        var driver = started()
        #expect(
            driver.end(.batch(BatchLinks(next: "/e?ack=2&timeout=1800", resume: nil, resync: nil))) == [
                "poll https://pool.contoso.com/e?ack=2&timeout=1800"
            ]
        )
    }

    @Test func resyncWinsAndIsReportedAsAReset() {
        var driver = started()
        #expect(
            driver.end(.batch(BatchLinks(next: "/e?ack=9", resume: "/e?ack=8", resync: "/e?ack=3")))
                == ["reset resync x1", "poll https://pool.contoso.com/e?ack=3&timeout=900"]
        )
    }

    @Test func resumeReSendsTheQueryParametersAndIsReportedAsAReset() {
        var driver = started()
        #expect(
            driver.end(.batch(BatchLinks(next: nil, resume: "/e?ack=2", resync: nil))) == [
                "reset resume x1", "poll https://pool.contoso.com/e?ack=2&timeout=900",
            ]
        )
    }

    @Test func baseURIOfTheBatchResolvesItsHrefs() {
        var driver = started()
        #expect(
            driver.end(
                .batch(
                    BatchLinks(next: "v1/e?ack=2", resume: nil, resync: nil),
                    base: "https://tap.contoso.com/platformservice/"
                )
            )
                == ["poll https://tap.contoso.com/platformservice/v1/e?ack=2&timeout=900"]
        )
    }

    @Test func applicationNotFoundMeansANewApplicationAndAReset() {
        var driver = started()
        #expect(
            driver.end(.status(404, subcode: "ApplicationNotFound", retryAfter: nil)) == [
                "createApplication application_not_found after \(Self.firstURL)"
            ]
        )
        #expect(
            driver.applicationCreated("https://pool.contoso.com/a/106/events?ack=1")
                == [
                    "reset application_not_found x1 \(ChannelDriver.application) -> https://pool.contoso.com/a/106",
                    "poll https://pool.contoso.com/a/106/events?ack=1&timeout=900",
                ]
        )
    }

    @Test func inactiveApplicationExpiredMeansANewApplication() {
        var driver = started()
        #expect(
            driver.end(.status(410, subcode: "InactiveApplicationExpired", retryAfter: nil)) == [
                "createApplication application_expired after \(Self.firstURL)"
            ]
        )
    }

    /// Issue 15, item 6: 410 other than an expiry needs an operator: exit 76 (not restarted),
    /// a message naming the URL, the subcode and what to do.
    @Test(arguments: [
        ("TooManyApplications", "sign out other clients"),
        ("UserAgentNotAllowed", "UserAgent="),
        ("CannotRedirect", "fix the cause"),
    ])
    func otherGoneSubcodesNeedAnOperator(subcode: String, advice: String) {
        var driver = started()
        let actions = driver.end(.status(410, subcode: subcode, retryAfter: nil))
        let stop = try! #require(driver.stop, "\(actions)")
        #expect(stop.exitCode == 76)
        #expect(actions.count == 1)
        #expect(stop.description.contains(Self.firstURL) && stop.description.contains("HTTP 410 \(subcode)"), "\(stop)")
        #expect(stop.description.contains(advice) && stop.description.contains("systemctl restart"), "\(stop)")
    }

    /// Issue 15, item 7: the action carries the URL that got 409 (the shell used to read it
    /// from the state after the machine had moved on: `url=` was empty).
    @Test func pGetReplacedIsAnotherConsumerThenBackoff() {
        var driver = started()
        #expect(
            driver.end(.status(409, subcode: "PGetReplaced", retryAfter: nil))
                == [
                    "anotherConsumer \(Self.firstURL)",
                    "wait 1000ms then \(Self.firstURL): HTTP 409 PGetReplaced: another consumer polls this application",
                ]
        )
        #expect(driver.backoff?.failedURL == Self.firstURL)
        #expect(driver.elapse() == ["poll \(Self.firstURL)"])
    }

    @Test func serverErrorsRetryTheSameURLWithGrowingDelaysHonouringRetryAfter() {
        var driver = started()
        let url = Self.firstURL
        #expect(driver.end(.status(500, subcode: nil, retryAfter: nil)) == ["wait 1000ms then \(url): HTTP 500"])
        #expect(driver.elapse() == ["poll \(url)"])
        #expect(
            driver.end(.status(503, subcode: nil, retryAfter: .seconds(30))) == ["wait 30000ms then \(url): HTTP 503"]
        )
        #expect(driver.elapse() == ["poll \(url)"])
        #expect(driver.end(.status(429, subcode: nil, retryAfter: nil)) == ["wait 4000ms then \(url): HTTP 429"])
        #expect(driver.elapse() == ["poll \(url)"])
        #expect(
            driver.end(.transport(description: "connection reset", retryable: true)) == [
                "wait 8000ms then \(url): connection reset"
            ]
        )
        #expect(driver.elapse() == ["poll \(url)"])
        // The fifth failure in a row is over the budget of 4: the named error, exit 75.
        _ = driver.end(.transport(description: "connection reset", retryable: true))
        let stop = try! #require(driver.stop)
        #expect(
            stop
                == .retryBudgetSpent(
                    RetryBudgetSpent(operation: "event channel", url: url, attempts: 5, lastFailure: "connection reset")
                )
        )
        #expect(stop.exitCode == 75)
        #expect(stop.description.contains("gave up after 5 attempts"))
    }

    @Test func retryAfterIsClampedToThePolicysMaximum() {
        var driver = started()
        #expect(
            driver.end(.status(503, subcode: nil, retryAfter: .seconds(3600))) == [
                "wait 240000ms then \(Self.firstURL): HTTP 503"
            ]
        )
    }

    @Test func aGoodBatchResetsTheFailureCount() {
        var driver = started()
        _ = driver.end(.status(500, subcode: nil, retryAfter: nil))
        _ = driver.elapse()
        _ = driver.end(.batch(BatchLinks(next: "/e?ack=2", resume: nil, resync: nil)))
        #expect(
            driver.end(.status(500, subcode: nil, retryAfter: nil)) == [
                "wait 1000ms then https://pool.contoso.com/e?ack=2&timeout=900: HTTP 500"
            ]
        )
    }

    @Test func unauthorizedGetsANewTokenAndTheSameURL() {
        var driver = started()
        #expect(driver.end(.status(401, subcode: nil, retryAfter: nil)) == ["reauthenticate 401 \(Self.firstURL)"])
        #expect(driver.reauthenticated() == ["poll \(Self.firstURL)"])
    }

    @Test func unauthorizedAfterThreeNewTokensIsCredentials() {
        var driver = started()
        for _ in 0..<3 {
            _ = driver.end(.status(401, subcode: nil, retryAfter: nil))
            _ = driver.reauthenticated()
        }
        _ = driver.end(.status(401, subcode: nil, retryAfter: nil))
        #expect(driver.stop == .unauthorized(url: Self.firstURL, status: 401, tokens: 3))
        #expect(driver.stop?.exitCode == 77)
    }

    /// Issue 15, item 5: 403 with a token subcode gets a new token (not the same token 60
    /// times); any other 403 makes the daemon discover the server again (protocol notes §1.1),
    /// once; a 403 after that needs an operator.
    @Test func forbiddenInvalidTokenGetsANewToken() {
        var driver = started()
        #expect(
            driver.end(.status(403, subcode: "InvalidToken", retryAfter: nil)) == [
                "reauthenticate 403 \(Self.firstURL)"
            ]
        )
        #expect(driver.reauthenticated() == ["poll \(Self.firstURL)"])
    }

    @Test(arguments: [String?.none, "MobileApplicationNoLongerAllowed", "NotAllowed", "AnonymousNotAllowed"])
    func otherForbiddenSubcodesRediscoverOnceThenNeedAnOperator(subcode: String?) {
        var driver = started()
        #expect(
            driver.end(.status(403, subcode: subcode, retryAfter: nil)) == [
                "rediscover \(subcode ?? "-") \(Self.firstURL)"
            ]
        )
        // The same application: the channel goes on where it was.
        #expect(driver.rediscovered(newEventsURL: nil) == ["poll \(Self.firstURL)"])
        _ = driver.end(.status(403, subcode: subcode, retryAfter: nil))
        let stop = try! #require(driver.stop)
        #expect(stop.exitCode == 76)
        #expect(stop.description.contains("\(Self.firstURL): HTTP 403 \(subcode ?? "(no subcode)")"), "\(stop)")
        #expect(stop.description.contains("administrator"), "\(stop)")
    }

    @Test func aRediscoveryThatFindsAnotherApplicationIsAReset() {
        var driver = started()
        _ = driver.end(.status(403, subcode: nil, retryAfter: nil))
        #expect(
            driver.rediscovered(newEventsURL: "https://pool2.contoso.com/a/7/events?ack=1")
                == [
                    "reset application_replaced x1 \(ChannelDriver.application) -> https://pool2.contoso.com/a/7",
                    "poll https://pool2.contoso.com/a/7/events?ack=1&timeout=900",
                ]
        )
    }

    @Test func aGoodBatchAllowsAnotherRediscovery() {
        var driver = started()
        _ = driver.end(.status(403, subcode: nil, retryAfter: nil))
        _ = driver.rediscovered(newEventsURL: nil)
        _ = driver.end(.batch(BatchLinks(next: "/e?ack=2", resume: nil, resync: nil)))
        #expect(
            driver.end(.status(403, subcode: nil, retryAfter: nil)) == [
                "rediscover - https://pool.contoso.com/e?ack=2&timeout=900"
            ]
        )
    }

    @Test func fatalTransportErrorsStopAtOnce() {
        var driver = started()
        #expect(
            driver.end(.transport(description: "certificate not trusted", retryable: false)) == [
                "stop 75: certificate not trusted"
            ]
        )
    }

    @Test func aMalformedBatchIsRetriedThenSkippedOnlyWhenItsNextIsKnown() {
        var driver = started()
        let url = Self.firstURL
        #expect(driver.end(.malformed(description: "bad", next: "/e?ack=2")) == ["wait 1000ms then \(url): bad"])
        _ = driver.elapse()
        #expect(driver.end(.malformed(description: "bad", next: "/e?ack=2")) == ["wait 2000ms then \(url): bad"])
        _ = driver.elapse()
        #expect(
            driver.end(.malformed(description: "bad", next: "/e?ack=2"))
                == [
                    "skip \(url) -> https://pool.contoso.com/e?ack=2: bad",
                    "poll https://pool.contoso.com/e?ack=2&timeout=900",
                ]
        )
    }

    @Test func aMalformedBatchWithoutANextIsNeverSkipped() {
        var driver = ChannelDriver(timeoutSeconds: 180, policy: RetryPolicy(maximumAttempts: 10))
        _ = driver.start(Self.first)
        for _ in 0..<6 {
            let actions = driver.end(.malformed(description: "bad", next: nil))
            #expect(actions.first?.hasPrefix("wait ") == true, "\(actions)")
            _ = driver.elapse()
        }
    }

    @Test func aBatchWithoutAnyLinkIsRetried() {
        var driver = started()
        #expect(
            driver.end(.batch(BatchLinks(next: nil, resume: nil, resync: nil))) == [
                "wait 1000ms then \(Self.firstURL): the batch has no next, resume or resync link"
            ]
        )
    }

    /// Issue 15, item 4: a server that answers every poll with `resync`. The first is followed
    /// at once and reported; the ones after it back off like failures (growing, jittered,
    /// bounded) without a record each; when a batch ends the storm, one reset record says how
    /// many answers it merged; a storm longer than the budget is the named error (exit 75).
    @Test func aResyncStormBacksOffAndItsResetsAreMerged() {
        var driver = started()
        let resyncURL = "https://pool.contoso.com/e?ack=3&timeout=900"
        #expect(
            driver.end(.batch(BatchLinks(next: nil, resume: nil, resync: "/e?ack=3"))) == [
                "reset resync x1", "poll \(resyncURL)",
            ]
        )
        #expect(
            driver.end(.batch(BatchLinks(next: nil, resume: nil, resync: "/e?ack=3"))) == [
                "wait 2000ms then \(resyncURL): the server answered resync 2 times in a row"
            ]
        )
        #expect(driver.elapse() == ["poll \(resyncURL)"])
        #expect(
            driver.end(.batch(BatchLinks(next: nil, resume: nil, resync: "/e?ack=3")), random: 0) == [
                "wait 3000ms then \(resyncURL): the server answered resync 3 times in a row"
            ]
        )
        _ = driver.elapse()
        #expect(
            driver.end(.batch(BatchLinks(next: "/e?ack=4", resume: nil, resync: nil))) == [
                "reset resync x2", "poll https://pool.contoso.com/e?ack=4&timeout=900",
            ]
        )
        // Over: the next resync is a first one again.
        #expect(
            driver.end(.batch(BatchLinks(next: nil, resume: nil, resync: "/e?ack=4"))) == [
                "reset resync x1", "poll https://pool.contoso.com/e?ack=4&timeout=900",
            ]
        )
    }

    @Test func aResyncStormOutlivingTheBudgetStops() {
        var driver = started()
        _ = driver.end(.batch(BatchLinks(next: nil, resume: nil, resync: "/e?ack=3")))
        for _ in 0..<3 {
            #expect(
                driver.end(.batch(BatchLinks(next: nil, resume: nil, resync: "/e?ack=3"))).first?.hasPrefix("wait ")
                    == true
            )
            _ = driver.elapse()
        }
        let actions = driver.end(.batch(BatchLinks(next: nil, resume: nil, resync: "/e?ack=3")))
        #expect(actions.first == "reset resync x4", "the merged resets are reported before the stop: \(actions)")
        #expect(driver.stop?.exitCode == 75)
        #expect(driver.stop?.description.contains("gave up after 5 attempts") == true, "\(actions)")
    }

    /// Issue 15, item 1: an input that does not fit the state is an internal inconsistency —
    /// a stop with exit 70 naming the state and the input — never a silent "no action" (which
    /// ended the daemon with exit 0).
    @Test func inputsThatDoNotFitTheStateStopWithAnInternalInconsistency() throws {
        var driver = started()
        let pending = try #require(driver.poll)
        _ = driver.end(.status(500, subcode: nil, retryAfter: nil))
        let backoff = try #require(driver.backoff)
        // A poll's end while backing off (the poll was answered already).
        let late = driver.machine.pollEnded(
            pending,
            .batch(BatchLinks(next: "/e?ack=2", resume: nil, resync: nil)),
            handedOver: 0,
            random: 0.5
        )
        guard case .stop(let stop)? = late.first, late.count == 1 else {
            Issue.record("expected a stop, got \(late)")
            return
        }
        #expect(stop.exitCode == 70)
        #expect(stop.description.contains("backing off before \(Self.firstURL)"), "names the state: \(stop)")
        #expect(stop.description.contains("the end of the poll of \(Self.firstURL)"), "names the input: \(stop)")
        // Stopped now: even the wait's own end is refused loudly.
        let after = driver.machine.backoffElapsed(backoff)
        #expect(
            after.map(ChannelDriver.text) == [
                "stop 70: internal inconsistency: the event channel got the end of the wait before \(Self.firstURL) while stopped; this is a bug in ucwa-eventd"
            ]
        )
    }

    @Test func aTicketFromAnEarlierActionIsRefused() throws {
        var driver = started()
        let first = try #require(driver.poll)
        _ = driver.end(.batch(BatchLinks(next: "/e?ack=2", resume: nil, resync: nil)))
        // The first poll's ticket, handed back again: the machine polls ack=2 now.
        let stale = driver.machine.pollEnded(
            first,
            .batch(BatchLinks(next: "/e?ack=2", resume: nil, resync: nil)),
            handedOver: 0,
            random: 0.5
        )
        let text = stale.map(ChannelDriver.text).joined()
        #expect(
            text.hasPrefix(
                "stop 70: internal inconsistency: the event channel got the end of the poll of \(Self.firstURL) ("
            ),
            "\(text)"
        )
        #expect(text.contains("while polling https://pool.contoso.com/e?ack=2&timeout=900"), "\(text)")
    }

    /// The poll after a batch acknowledges it (the shell checkpoints it before polling); a
    /// retry after a failure acknowledges nothing more.
    @Test func thePollAfterABatchAcknowledgesIt() throws {
        var driver = started()
        #expect(driver.poll?.completes == nil)
        _ = driver.end(.batch(BatchLinks(next: "/e?ack=2", resume: nil, resync: nil)))
        #expect(driver.poll?.completes == Self.firstURL)
        let second = try #require(driver.poll?.url)
        _ = driver.end(.status(500, subcode: nil, retryAfter: nil))
        _ = driver.elapse()
        #expect(driver.poll?.url == second)
        #expect(driver.poll?.completes == nil)
    }

    /// A batch without links is acknowledged by the poll after the wait, at its own URL.
    @Test func aBatchFollowedByAWaitIsAcknowledgedAfterIt() {
        var driver = started()
        #expect(
            driver.end(.batch(BatchLinks(next: nil, resume: nil, resync: nil))) == [
                "wait 1000ms then \(Self.firstURL): the batch has no next, resume or resync link"
            ]
        )
        _ = driver.elapse()
        #expect(driver.poll?.url == Self.firstURL)
        #expect(driver.poll?.completes == Self.firstURL)
    }

    /// A batch that failed to decode is captured on its next poll; a skipped one is
    /// acknowledged by the poll of its next, which is not captured.
    @Test func aMalformedBatchIsCapturedThenAcknowledgedWhenSkipped() {
        var driver = started()
        #expect(driver.poll?.capture == false)
        _ = driver.end(.malformed(description: "bad", next: "/e?ack=2"))
        _ = driver.elapse()
        #expect(driver.poll?.capture == true)
        #expect(driver.poll?.completes == nil)
        _ = driver.end(.malformed(description: "bad", next: "/e?ack=2"))
        _ = driver.elapse()
        let actions = driver.end(.malformed(description: "bad", next: "/e?ack=2"))
        #expect(actions.first?.hasPrefix("skip \(Self.firstURL) -> ") == true, "\(actions)")
        #expect(driver.poll?.url == "https://pool.contoso.com/e?ack=2&timeout=900")
        #expect(driver.poll?.completes == Self.firstURL)
        #expect(driver.poll?.capture == false)
    }

    @Test func anotherFailureEndsTheCapture() {
        var driver = started()
        _ = driver.end(.malformed(description: "bad", next: nil))
        _ = driver.elapse()
        _ = driver.end(.status(500, subcode: nil, retryAfter: nil))
        _ = driver.elapse()
        #expect(driver.poll?.capture == false)
    }

    /// Events handed over before a poll failed are skipped when the same URL is read again,
    /// until its batch is whole.
    @Test func eventsHandedOverAreSkippedOnTheNextReadOfTheSameURL() {
        var driver = started()
        #expect(driver.poll?.skip == 0)
        _ = driver.end(.transport(description: "connection reset", retryable: true), handedOver: 5)
        _ = driver.elapse()
        #expect(driver.poll?.skip == 5)
        // A failure that hands nothing over keeps the count.
        _ = driver.end(.status(500, subcode: nil, retryAfter: nil))
        _ = driver.elapse()
        #expect(driver.poll?.skip == 5)
        _ = driver.end(.malformed(description: "bad", next: nil), handedOver: 7)
        _ = driver.elapse()
        #expect(driver.poll?.skip == 7)
        // The whole batch: its next starts from its first event.
        _ = driver.end(.batch(BatchLinks(next: "/e?ack=2", resume: nil, resync: nil)), handedOver: 9)
        #expect(driver.poll?.skip == 0)
        _ = driver.end(.status(500, subcode: nil, retryAfter: nil))
        _ = driver.elapse()
        #expect(driver.poll?.skip == 0)
    }

    /// The reset record of a new application names it, the lost one and the server's error
    /// body of the poll that found it gone; its endpoints come with the reset.
    @Test func aNewApplicationsResetCarriesItsReplacement() throws {
        var driver = started()
        let body = UCWAErrorBody(code: "NotFound", subcode: "ApplicationNotFound", message: "gone")
        _ = driver.end(.status(404, subcode: "ApplicationNotFound", retryAfter: nil, error: body))
        _ = driver.applicationCreated("https://pool.contoso.com/a/106/events?ack=1")
        guard case .reset(.applicationNotFound, 1, let replacement?)? = driver.last.first else {
            Issue.record("expected a reset with a replacement: \(driver.last)")
            return
        }
        #expect(replacement.previousApplication == ChannelDriver.application)
        #expect(replacement.endpoints.applicationURL == "https://pool.contoso.com/a/106")
        #expect(replacement.endpoints.eventsURL == "https://pool.contoso.com/a/106/events?ack=1")
        #expect(replacement.serverError == body)
    }

    @Test func aRediscoveredApplicationsResetCarriesThe403Body() {
        var driver = started()
        let body = UCWAErrorBody(code: "Forbidden", subcode: nil, message: "no")
        _ = driver.end(.status(403, subcode: nil, retryAfter: nil, error: body))
        _ = driver.rediscovered(newEventsURL: "https://pool2.contoso.com/a/7/events?ack=1")
        guard case .reset(.applicationReplaced, 1, let replacement?)? = driver.last.first else {
            Issue.record("expected a reset with a replacement: \(driver.last)")
            return
        }
        #expect(replacement.previousApplication == ChannelDriver.application)
        #expect(replacement.endpoints.applicationURL == "https://pool2.contoso.com/a/7")
        #expect(replacement.serverError == body)
    }

    /// Resets other than a new application name no application.
    @Test func aResyncResetCarriesNoReplacement() {
        var driver = started()
        _ = driver.end(.batch(BatchLinks(next: nil, resume: nil, resync: "/e?ack=3")))
        guard case .reset(.resync, 1, nil)? = driver.last.first else {
            Issue.record("expected a reset without a replacement: \(driver.last)")
            return
        }
    }

    /// A new application or a rediscovery that nobody asked for (its request answered already)
    /// is an internal inconsistency.
    @Test func applicationsTheMachineDidNotAskForAreAnInternalInconsistency() throws {
        func expectRefused(_ actions: [ChannelAction], input: String, state: String) {
            #expect(
                actions.map(ChannelDriver.text) == [
                    "stop 70: internal inconsistency: the event channel got \(input) while \(state); this is a bug in ucwa-eventd"
                ]
            )
        }
        var created = started()
        _ = created.end(.status(404, subcode: nil, retryAfter: nil))
        let recreation = try #require(created.recreation)
        _ = created.applicationCreated("https://pool.contoso.com/a/106/events?ack=1")
        expectRefused(
            created.machine.applicationCreated(
                recreation,
                created: ChannelDriver.endpoints(application: "https://pool.contoso.com/a/107", events: Self.first),
                previousApplication: ChannelDriver.application
            ),
            input: "a new application (application_not_found, events at \(Self.first))",
            state: "polling https://pool.contoso.com/a/106/events?ack=1&timeout=900"
        )
        var rediscovered = started()
        _ = rediscovered.end(.status(403, subcode: nil, retryAfter: nil))
        let rediscovery = try #require(rediscovered.rediscovery)
        _ = rediscovered.rediscovered(newEventsURL: nil)
        expectRefused(
            rediscovered.machine.rediscovered(
                rediscovery,
                found: ChannelDriver.endpoints(application: ChannelDriver.application, events: Self.first),
                previousApplication: ChannelDriver.application
            ),
            input: "the end of a rediscovery after 403 at \(Self.firstURL)",
            state: "polling \(Self.firstURL)"
        )
    }

    @Test func everyInputGivesTheDriverSomethingToDo() throws {
        // Each kind of answer ends with an action that asks for an input or stops.
        var driver = started()
        for outcome: PollOutcome in [
            .batch(BatchLinks(next: "/e?ack=2", resume: nil, resync: nil)), .status(500, subcode: nil, retryAfter: nil),
        ] {
            let actions = driver.end(outcome)
            let last = try #require(driver.last.last, "\(actions)")
            switch last {
            case .poll, .wait, .reauthenticate, .rediscover, .createApplication, .stop: break
            case .reset, .anotherConsumer, .skipMalformed: Issue.record("ends without asking for an input: \(actions)")
            }
            if driver.backoff != nil { _ = driver.elapse() }
        }
        var fresh = ChannelDriver()
        _ = fresh.start(Self.first)
        #expect(
            fresh.machine.start(eventsURL: Self.first).map(ChannelDriver.text).first?.hasPrefix(
                "stop 70: internal inconsistency"
            ) == true,
            "started twice"
        )
    }
}
