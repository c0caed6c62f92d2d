import Testing
import UCWATestSupport

@testable import CurlHTTP
@testable import Eventd
@testable import StreamingJSON
@testable import UCWA
@testable import UCWASimulator

/// The event channel against the simulator: real sockets, real libcurl, real ack semantics.
@Suite struct EventChannelTests {
    static let threeStates = ["started:Connecting", "updated:Alerting", "completed:Connected"]

    @Test func eventsArriveInOrderAndEachBatchIsAcknowledgedByFollowingNext() async throws {
        let harness = try await Harness()
        harness.startChannel()
        for _ in 0..<3 { await harness.simulator.play(InvitationScript()) }
        let events = try await harness.waitForEvents(9)
        #expect(lifecycle(events) == Array([Self.threeStates, Self.threeStates, Self.threeStates].joined()))
        #expect(events.allSatisfy { $0.resolution == .embedded })
        #expect(
            events.map(\.href).allSatisfy {
                $0.hasPrefix(
                    harness.simulator.baseURL + "/ucwa/oauth/v1/applications/101/communication/participantInvitations/"
                )
            }
        )
        try await harness.simulator.waitForAcknowledged(9, timeout: .seconds(15))
        let batches = await harness.recorder.batches
        #expect(batches.first.map { $0.next.contains("ack=2") } == true)
        _ = await harness.stop()
    }

    @Test func theTimeoutIsSentExplicitlyOnEveryPoll() async throws {
        let harness = try await Harness()
        harness.startChannel(timeoutSeconds: 1)
        try await harness.waitUntil("two empty batches") { await $0.batches.count >= 2 }
        let polls = await harness.simulator.stats().requests.filter { $0.contains("/events?") }
        #expect(polls.count >= 2)
        #expect(polls.allSatisfy { $0.hasSuffix("&timeout=1") }, "\(polls)")
        _ = await harness.stop()
    }

    @Test func anEmptyBatchAfterTheServerTimeoutIsFollowedByTheNextPoll() async throws {
        let harness = try await Harness()
        harness.startChannel(timeoutSeconds: 1)
        try await harness.waitUntil("an empty batch") { await $0.batches.count >= 1 }
        await harness.simulator.play(InvitationScript())
        let events = try await harness.waitForEvents(3)
        #expect(lifecycle(events) == Self.threeStates)
        _ = await harness.stop()
    }

    @Test func aBodyInOneByteChunksDecodesTheSame() async throws {
        let harness = try await Harness()
        await harness.simulator.inject(.oneByteChunks)
        await harness.simulator.play(InvitationScript(subject: "Grüße — \u{1F600} \"quoted\"", outcome: .declined))
        harness.startChannel()
        let events = try await harness.waitForEvents(3)
        #expect(lifecycle(events) == ["started:Connecting", "updated:Alerting", "completed:Declined"])
        #expect(events[0].resource?.subject?.string == "Grüße — \u{1F600} \"quoted\"")
        #expect(events[2].event.reason?.subcode?.string == "Declined")
        _ = await harness.stop()
    }

    @Test func aConnectionDroppedMidBodyIsRetriedWithoutLossOrDuplicates() async throws {
        let harness = try await Harness()
        await harness.simulator.inject(.dropConnectionMidBody)
        for _ in 0..<4 { await harness.simulator.play(InvitationScript()) }
        harness.startChannel()
        let events = try await harness.waitForEvents(12)
        try await harness.simulator.waitForAcknowledged(12, timeout: .seconds(15))
        #expect(await harness.recorder.events.count == 12, "no duplicates from the re-sent batch")
        #expect(lifecycle(events) == Array(Array(repeating: Self.threeStates, count: 4).joined()))
        #expect(await harness.recorder.notices.contains { if case .retrying = $0 { true } else { false } })
        #expect(await harness.simulator.stats().batchesResent == 1)
        _ = await harness.stop()
    }

    @Test func serviceUnavailableWithRetryAfterIsHonoured() async throws {
        let clock = SteppingClock()
        let harness = try await Harness(clock: DaemonClock(clock))
        await harness.simulator.inject(.eventsStatus(503, retryAfterSeconds: 1))
        await harness.simulator.play(InvitationScript())
        harness.startChannel()
        try await waitUntil("the channel waits after the 503") { clock.sleepers == 1 }
        #expect(clock.nextDeadline == .seconds(1), "Retry-After, not the policy's 50 ms")
        clock.advance(by: .milliseconds(999))
        #expect(clock.sleepers == 1, "still waiting just before the second")
        let polls = await harness.simulator.stats().requests.filter { $0.contains("/events?") }
        #expect(polls.count == 1, "no poll before Retry-After: \(polls)")
        clock.advance(by: .milliseconds(1))
        #expect(lifecycle(try await harness.waitForEvents(3)) == Self.threeStates)
        let notices = await harness.recorder.notices
        #expect(
            notices.contains {
                if case .retrying(_, let reason, let delay) = $0 {
                    reason == "HTTP 503" && delay == .seconds(1)
                } else {
                    false
                }
            }
        )
        _ = await harness.stop()
    }

    @Test(arguments: [500, 502, 429])
    func serverErrorsAndTooManyRequestsAreRetried(status: Int) async throws {
        let harness = try await Harness()
        await harness.simulator.inject(.eventsStatus(status, retryAfterSeconds: nil))
        await harness.simulator.play(InvitationScript())
        harness.startChannel()
        #expect(lifecycle(try await harness.waitForEvents(3)) == Self.threeStates)
        #expect(
            await harness.recorder.notices.contains {
                if case .retrying(_, let reason, _) = $0 { reason == "HTTP \(status)" } else { false }
            }
        )
        _ = await harness.stop()
    }

    @Test func aTokenRevokedMidRunIsReplacedAndNothingIsLost() async throws {
        let harness = try await Harness()
        harness.startChannel(timeoutSeconds: 1)
        await harness.simulator.play(InvitationScript())
        _ = try await harness.waitForEvents(3)
        await harness.simulator.inject(.revokeTokens)
        await harness.simulator.play(InvitationScript(outcome: .cancelled))
        let events = try await harness.waitForEvents(6)
        #expect(
            lifecycle(Array(events.suffix(3))) == ["started:Connecting", "updated:Alerting", "completed:Cancelled"]
        )
        // The poll after the first batch may already have been parked (authorised) when the
        // tokens were revoked: then the second invitation arrives on it and the 401 comes with
        // the poll after, within the 1-second long-poll timeout.
        try await waitAtMost(.seconds(10)) { await harness.recorder.notices.contains(.reauthenticated) }
        #expect(await harness.recorder.notices.contains(.reauthenticated))
        #expect(await harness.simulator.stats().tokensIssued == 2)
        _ = await harness.stop()
    }

    @Test func aTokenThatExpiresByTimeIsRenewedWithoutAGap() async throws {
        // The server keeps the token longer than the test runs: the session's clock, stepped to
        // 80 % of the lifetime, is what makes it due. The poll after the batch carries a new
        // token, and no 401 comes first (a refresh that did not happen would leave one grant).
        let clock = SteppingClock()
        let harness = try await Harness(
            options: SimulatorOptions(tokenLifetime: .seconds(100)),
            clock: DaemonClock(clock)
        )
        harness.startChannel(timeoutSeconds: 1)
        try await harness.waitUntil("the channel is open") { await $0.openings.count == 1 }
        clock.advance(by: .seconds(80))
        await harness.simulator.play(InvitationScript())
        #expect(lifecycle(try await harness.waitForEvents(3)) == Self.threeStates)
        try await waitAtMost(.seconds(10), poll: .milliseconds(50)) {
            await harness.simulator.stats().tokensIssued >= 2
        }
        #expect(await harness.simulator.stats().tokensIssued == 2)
        #expect(await !harness.recorder.notices.contains(.reauthenticated), "renewed before, not after a 401")
        _ = await harness.stop()
    }

    @Test func applicationNotFoundCreatesANewApplicationAndReportsAReset() async throws {
        let harness = try await Harness()
        harness.startChannel(timeoutSeconds: 1)
        await harness.simulator.play(InvitationScript())
        _ = try await harness.waitForEvents(3)
        try await harness.simulator.waitForAcknowledged(3, timeout: .seconds(15))
        await harness.simulator.inject(.applicationGone)
        try await harness.waitUntil("a reset") { await $0.resets.count == 1 }
        #expect(await harness.recorder.resets == [.applicationNotFound])
        await harness.simulator.play(InvitationScript())
        let events = try await harness.waitForEvents(6)
        #expect(events.suffix(3).allSatisfy { $0.href.contains("/applications/102/") })
        let openings = await harness.recorder.openings
        #expect(openings.map { $0.eventsURL.contains("/applications/102/") } == [false, true])
        #expect(await harness.simulator.stats().applicationsCreated == 2)
        _ = await harness.stop()
    }

    @Test func inactiveApplicationExpiredCreatesANewApplication() async throws {
        let harness = try await Harness()
        await harness.simulator.inject(.applicationExpired)
        harness.startChannel(timeoutSeconds: 1)
        try await harness.waitUntil("a reset") { await $0.resets.count == 1 }
        #expect(await harness.recorder.resets == [.applicationExpired])
        await harness.simulator.play(InvitationScript())
        #expect(lifecycle(try await harness.waitForEvents(3)) == Self.threeStates)
        _ = await harness.stop()
    }

    @Test func pGetReplacedByAnotherConsumerIsReportedAndTheChannelBacksOff() async throws {
        let harness = try await Harness()
        harness.startChannel(timeoutSeconds: 5)
        try await harness.waitUntil("the channel is open") { await $0.openings.count == 1 }
        try await Task.sleep(for: .milliseconds(300))
        // Another consumer polls the same application with its own token.
        let intruder = CurlClient()
        defer { intruder.shutdown() }
        let token = try await SimulatorClient.token(intruder, harness.simulator)
        let other = Task {
            try await intruder.execute(
                CurlRequest(
                    url: harness.simulator.baseURL + "/ucwa/oauth/v1/applications/101/events?ack=1&timeout=1",
                    headers: [HTTPHeader("Authorization", "Bearer \(token)")],
                    timeouts: .longPoll(serverTimeout: .seconds(1))
                )
            )
        }
        try await harness.waitUntil("another consumer") {
            await $0.notices.contains { if case .anotherConsumer = $0 { true } else { false } }
        }
        _ = try await other.value
        await harness.simulator.play(InvitationScript())
        #expect(lifecycle(try await harness.waitForEvents(3)) == Self.threeStates)
        #expect(await harness.simulator.stats().pollsReplaced >= 1)
        _ = await harness.stop()
    }

    @Test func resyncIsFollowedAndReported() async throws {
        let harness = try await Harness()
        await harness.simulator.inject(.resync)
        await harness.simulator.play(InvitationScript())
        harness.startChannel()
        #expect(lifecycle(try await harness.waitForEvents(3)) == Self.threeStates)
        #expect(await harness.recorder.resets == [.resync])
        _ = await harness.stop()
    }

    @Test func resumeIsFollowedReportedAndTheQueryParametersAreSentAgain() async throws {
        let harness = try await Harness()
        await harness.simulator.inject(.resume)
        await harness.simulator.play(InvitationScript())
        harness.startChannel(timeoutSeconds: 1)
        _ = try await harness.waitForEvents(3)
        try await harness.waitUntil("the poll after resume") { await $0.batches.count >= 2 }
        #expect(await harness.recorder.resets == [.resume])
        let polls = await harness.simulator.stats().requests.filter { $0.contains("/events?ack=2") }
        #expect(polls.first?.hasSuffix("&timeout=1") == true, "\(polls)")
        _ = await harness.stop()
    }

    @Test func aMalformedBatchIsRetriedThenSkippedWhenItsNextIsKnown() async throws {
        let harness = try await Harness()
        await harness.simulator.inject(.malformedBatch)
        await harness.simulator.play(InvitationScript())
        harness.startChannel(timeoutSeconds: 1)
        try await harness.waitUntil("the skip") {
            await $0.notices.contains { if case .skippedMalformedBatch = $0 { true } else { false } }
        }
        let notices = await harness.recorder.notices
        let skipped = notices.compactMap {
            if case .skippedMalformedBatch(let url, let next, let description) = $0 {
                (url, next, description)
            } else {
                nil
            }
        }
        #expect(skipped.first?.0.contains("ack=1") == true)
        #expect(skipped.first?.1.contains("ack=2") == true)
        #expect(skipped.first?.2.contains("byte") == true, "the error names the byte offset: \(skipped.first?.2 ?? "")")
        #expect(notices.filter { if case .retrying = $0 { true } else { false } }.count == 2)
        // The channel goes on with later batches.
        await harness.simulator.play(InvitationScript())
        #expect(lifecycle(try await harness.waitForEvents(3)) == Self.threeStates)
        _ = await harness.stop()
    }

    @Test func aServerSilentPastTheLongPollTimeoutIsRetried() async throws {
        let harness = try await Harness()
        await harness.simulator.inject(.silentPoll)
        harness.startChannel(timeoutSeconds: 1)
        try await harness.waitUntil("a timed-out poll", timeout: .seconds(10)) {
            await $0.notices.contains {
                if case .retrying(_, let reason, _) = $0 {
                    reason.contains("Timeout") || reason.contains("timed out")
                } else {
                    false
                }
            }
        }
        await harness.simulator.play(InvitationScript())
        #expect(lifecycle(try await harness.waitForEvents(3)) == Self.threeStates)
        _ = await harness.stop()
    }

    @Test func aBodyThatStallsMidBatchEndsAtTheTotalTimeoutAndIsRetriedWithoutDuplicates() async throws {
        let harness = try await Harness()
        await harness.simulator.inject(.stallMidBody)
        for _ in 0..<3 { await harness.simulator.play(InvitationScript()) }
        harness.startChannel(timeoutSeconds: 1)
        let events = try await harness.waitForEvents(9)
        try await harness.simulator.waitForAcknowledged(9, timeout: .seconds(15))
        #expect(await harness.recorder.events.count == 9)
        #expect(lifecycle(events) == Array(Array(repeating: Self.threeStates, count: 3).joined()))
        _ = await harness.stop()
    }

    @Test func aSlowHandlerPausesTheTransferSoMemoryStaysBounded() async throws {
        var options = SimulatorOptions()
        options.maxEventsPerBatch = 10_000
        let harness = try await Harness(options: options)
        for index in 0..<1000 {
            await harness.simulator.play(
                InvitationScript(subject: "Invitation \(index) " + String(repeating: "x", count: 200))
            )
        }
        let session = harness.session
        let recorder = harness.recorder
        let task = Task {
            var channel = EventChannel(
                session: session,
                handler: RecordingHandler(
                    resolver: Resolver(session: session, concurrency: 1, logger: Harness.quiet),
                    recorder: recorder,
                    delay: .microseconds(200)
                ),
                timeoutSeconds: 2,
                policy: Harness.fastRetries,
                eventsInFlight: 32,
                logger: Harness.quiet
            )
            try? await channel.run()
            return channel.peakEventsWaiting
        }
        let events = try await harness.waitForEvents(3000, timeout: .seconds(60))
        #expect(events.count == 3000)
        let subjects: [String] = events.map {
            String($0.resource?.subject?.string.split(separator: " ").prefix(2).joined(separator: " ") ?? "")
        }
        var expected: [String] = []
        for index in 0..<1000 { expected += Array(repeating: "Invitation \(index)", count: 3) }
        #expect(subjects == expected)
        task.cancel()
        let peak = await task.value
        // One ~1.9 MB batch; without back-pressure nearly all 3000 events would wait at once.
        // Paused after the chunk that crosses 32, at most one more chunk of events arrives.
        #expect(peak >= 32)
        #expect(peak < 32 + 300, "peak \(peak) events waiting")
        _ = await harness.stop()
    }

    @Test func aRejectedPasswordStopsTheChannelWithExitCode77() async throws {
        let harness = try await Harness(password: "not the password")
        harness.startChannel()
        let result = try await harness.ended()
        guard case .failure(let error as SessionFailure) = result else {
            Issue.record("expected a SessionFailure, got \(result)")
            return
        }
        #expect(error.exitCode == 77)
        _ = await harness.stop()
    }

    @Test func cancellingTheChannelStopsItsParkedPollPromptly() async throws {
        let harness = try await Harness()
        harness.startChannel(timeoutSeconds: 600)
        try await harness.waitUntil("the channel is open") { await $0.openings.count == 1 }
        try await Task.sleep(for: .milliseconds(200))
        let clock = ContinuousClock()
        let started = clock.now
        let result = await harness.stop()
        #expect(clock.now - started < .seconds(3))
        if case .failure(let error)? = result { Issue.record("cancellation ended with \(error)") }
    }

    @Test func prefixedRelsFromTheTrustedApplicationFlavourAreUnderstood() async throws {
        let harness = try await Harness(options: SimulatorOptions(prefixedRels: true))
        await harness.simulator.play(InvitationScript())
        harness.startChannel()
        let events = try await harness.waitForEvents(3)
        #expect(lifecycle(events) == Self.threeStates)
        #expect(events[0].event.link.rel.string == "ms:rtc:saas:participantInvitation")
        _ = await harness.stop()
    }
}
