import Testing
import UCWATestSupport

@testable import CurlHTTP
@testable import Eventd
@testable import Locking
@testable import UCWA
@testable import UCWASimulator

/// Issue 15, item 3: one retry mechanism (`RetryBudget` over `RetryPolicy`) for every part that
/// retries — the sign-in, the token grant, the event channel and the resolver's GETs — through
/// the real HTTP client against the simulator: each honours `Retry-After` as a lower bound,
/// clamps it to the policy's maximum, and reports a spent budget as `RetryBudgetSpent` naming
/// the operation and the URL. (The resolver used to wait its own 200 ms doubling whatever the
/// server said; a spent sign-in budget was `SessionFailure.unexpectedDocument`.)
@Suite struct RetryTests {
    enum Component: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case signIn = "sign-in"
        case tokenGrant = "token grant"
        case eventChannel = "event channel"
        case resolver = "invitation GET"

        var testDescription: String { rawValue }

        var route: SimulatorRoute {
            switch self {
            case .signIn: .autodiscover
            case .tokenGrant: .token
            case .eventChannel: .events
            case .resolver: .invitation
            }
        }
    }

    /// Fast retries, two retries allowed, `Retry-After` honoured up to `maximumRetryAfter`.
    static func policy(maximumRetryAfter: Duration) -> RetryPolicy {
        RetryPolicy(
            initialDelay: .milliseconds(20),
            maximumDelay: .milliseconds(50),
            jitter: 0,
            maximumRetryAfter: maximumRetryAfter,
            maximumAttempts: 2
        )
    }

    /// What one run gave: the waits the component chose before its retries after the faults
    /// were armed (read off the session's clock while it slept, then stepped past), how many
    /// requests of its route the server saw meanwhile, and how it ended.
    struct Run {
        var waits: [Duration]
        var requests: Int
        var error: (any Error)?
        var resolution: Resolution?
    }

    /// Arms `faults` on the component's route, lets the component meet them, and measures.
    static func run(
        _ component: Component,
        policy: RetryPolicy,
        faults: Int,
        retryAfterSeconds: Int?
    ) async throws -> Run {
        let clock = SteppingClock()
        let harness = try await Harness(
            options: SimulatorOptions(embedResources: false),
            policy: policy,
            clock: DaemonClock(clock)
        )
        let simulator = harness.simulator
        let fault = SimulatorFault.answer(component.route, status: 503, retryAfterSeconds: retryAfterSeconds)
        func routeRequests() async -> Int {
            await simulator.stats().requests.filter { SimulatorRouteMatcher.matches(component.route, $0) }.count
        }
        let error = Locked<(any Error)?>(nil)
        let finished = Locked(false)
        var before = 0
        switch component {
        case .signIn, .tokenGrant:
            await simulator.inject(fault, times: faults)
            let session = harness.session
            Task {
                do { _ = try await session.bootstrap() } catch let failure { error.withLock { $0 = failure } }
                finished.withLock { $0 = true }
            }
        case .eventChannel, .resolver:
            harness.startChannel(
                timeoutSeconds: 1,
                concurrency: 1,
                policy: component == .eventChannel ? policy : Harness.fastRetries,
                resolverPolicy: component == .resolver ? policy : Harness.fastRetries
            )
            // The first poll is parked once the server has seen it: the faults apply to the next request.
            try await harness.waitUntil("the first poll") { _ in
                await simulator.stats().requests.contains { SimulatorRouteMatcher.matches(.events, $0) }
            }
            before = await routeRequests()
            await simulator.inject(fault, times: faults)
            // One event (a completed without started): one GET for the resolver.
            await simulator.play(InvitationScript(withStarted: false, withAlerting: false))
            let recorder = harness.recorder
            let channel = try #require(harness.channelTask.withLock { $0 })
            Task {
                if component == .eventChannel && faults > policy.maximumAttempts {
                    if case .failure(let failure) = await channel.value { error.withLock { $0 = failure } }
                } else if component == .eventChannel {
                    // The poll after the batch meets the fault; its retry acknowledges the batch.
                    try? await simulator.waitForAcknowledged(1, timeout: .seconds(15))
                } else {
                    try? await UCWATestSupport.waitUntil("the event", timeout: .seconds(30)) {
                        await !recorder.events.isEmpty
                    }
                }
                finished.withLock { $0 = true }
            }
        }
        // Each wait the component starts is read and stepped past, until it is done.
        var waits: [Duration] = []
        while true {
            try await waitUntil("\(component.rawValue): a wait or the end", timeout: .seconds(30)) {
                clock.sleepers > 0 || finished.withLock { $0 }
            }
            guard let wait = clock.nextDeadline else { break }
            waits.append(wait)
            clock.advance(by: wait)
        }
        let resolution = await harness.recorder.events.first?.resolution
        let requests = await routeRequests() - before
        _ = await harness.stop()
        return Run(waits: waits, requests: requests, error: error.withLock { $0 }, resolution: resolution)
    }

    @Test(arguments: Component.allCases)
    func retryAfterIsALowerBound(component: Component) async throws {
        let run = try await Self.run(
            component,
            policy: Self.policy(maximumRetryAfter: .seconds(5)),
            faults: 1,
            retryAfterSeconds: 1
        )
        #expect(run.error == nil, "\(String(describing: run.error))")
        let wait = try #require(run.waits.first, "\(component.rawValue): no wait before a retry")
        print("retry | \(component.rawValue) | Retry-After: 1 | retried after \(wait)")
        #expect(wait == .seconds(1), "\(component.rawValue) waited \(wait), not Retry-After's 1 s")
        if component == .resolver { #expect(run.resolution == .fetched) }
    }

    @Test(arguments: Component.allCases)
    func retryAfterIsClampedToThePolicysMaximum(component: Component) async throws {
        let run = try await Self.run(
            component,
            policy: Self.policy(maximumRetryAfter: .milliseconds(300)),
            faults: 1,
            retryAfterSeconds: 3600
        )
        #expect(run.error == nil, "\(String(describing: run.error))")
        let wait = try #require(run.waits.first, "\(component.rawValue): no wait before a retry")
        print("retry | \(component.rawValue) | Retry-After: 3600, clamp 0.3 s | retried after \(wait)")
        #expect(wait == .milliseconds(300), "\(component.rawValue) waited \(wait)")
    }

    @Test(arguments: Component.allCases)
    func aSpentBudgetIsTheNamedError(component: Component) async throws {
        // Two retries allowed: the third failure in a row spends the budget.
        let run = try await Self.run(
            component,
            policy: Self.policy(maximumRetryAfter: .seconds(1)),
            faults: 3,
            retryAfterSeconds: nil
        )
        #expect(run.requests >= 3, "\(component.rawValue): \(run.requests) requests")
        #expect(run.waits == [.milliseconds(20), .milliseconds(40)], "the policy's waits: \(run.waits)")
        switch component {
        case .signIn, .tokenGrant:
            let spent = try #require(run.error as? RetryBudgetSpent, "\(String(describing: run.error))")
            #expect(
                spent.operation == component.rawValue && spent.attempts == 3 && spent.lastFailure == "HTTP 503",
                "\(spent)"
            )
            #expect(
                spent.description.contains(
                    component == .signIn ? "/autodiscover/autodiscoverservice.svc/root" : "/WebTicket/oauthtoken"
                ),
                "\(spent)"
            )
        case .eventChannel:
            let gaveUp = try #require(run.error as? ChannelGaveUp, "\(String(describing: run.error))")
            guard case .retryBudgetSpent(let spent) = gaveUp.stop else {
                Issue.record("\(gaveUp)")
                return
            }
            #expect(
                spent.operation == "event channel" && spent.attempts == 3 && spent.url.contains("/events?ack="),
                "\(spent)"
            )
            #expect(gaveUp.stop.exitCode == 75)
        case .resolver:
            #expect(run.resolution == .failed, "the event goes on as failed; the channel does not stop")
            #expect(run.requests == 3, "three tries, no more")
        }
    }

    @Test func theBudgetCountsFailuresInARowAndNamesTheLastOne() {
        var budget = RetryBudget(
            policy: RetryPolicy(
                initialDelay: .seconds(1),
                maximumDelay: .seconds(4),
                jitter: 0,
                maximumRetryAfter: .seconds(10),
                maximumAttempts: 3
            ),
            operation: "token grant"
        )
        #expect(budget.failed(url: "https://x/t", reason: "HTTP 503", random: 0.5) == .retry(after: .seconds(1)))
        #expect(
            budget.failed(url: "https://x/t", reason: "HTTP 503", retryAfter: .seconds(7), random: 0.5)
                == .retry(after: .seconds(7))
        )
        #expect(
            budget.failed(url: "https://x/t", reason: "HTTP 503", retryAfter: .seconds(70), random: 0.5)
                == .retry(after: .seconds(10))
        )
        #expect(
            budget.failed(url: "https://x/t", reason: "timed out", random: 0.5)
                == .spent(
                    RetryBudgetSpent(
                        operation: "token grant",
                        url: "https://x/t",
                        attempts: 4,
                        lastFailure: "timed out"
                    )
                )
        )
        budget.succeeded()
        #expect(budget.failed(url: "https://x/t", reason: "HTTP 503", random: 0.5) == .retry(after: .seconds(1)))
    }
}

/// Which request lines belong to a route (as the simulator records them: `METHOD path?query`).
enum SimulatorRouteMatcher {
    static func matches(_ route: SimulatorRoute, _ line: String) -> Bool {
        let lowered = line.lowercased()
        let path = lowered.split(separator: "?").first.map(String.init) ?? lowered
        switch route {
        case .autodiscover:
            return path.hasSuffix("/autodiscover/autodiscoverservice.svc/root") && path.hasPrefix("get ")
        case .user: return path.hasSuffix("/root/oauth/user")
        case .token: return path.hasPrefix("post ") && path.hasSuffix("/webticket/oauthtoken")
        case .applications: return path.hasPrefix("post ") && path.hasSuffix("/ucwa/oauth/v1/applications")
        case .events: return path.hasPrefix("get ") && path.hasSuffix("/events")
        case .invitation: return path.hasPrefix("get ") && path.contains("/participantinvitations/")
        }
    }
}
