import Logging
import Testing
import UCWATestSupport

@testable import CurlHTTP
@testable import Eventd
@testable import Locking
@testable import UCWA
@testable import UCWASimulator

/// Everything the channel handed over, in order.
actor Recorder {
    enum Entry: Sendable {
        case opened(ApplicationEndpoints)
        case reset(ChannelResetReason)
        case event(ResolvedEvent)
        case batch(url: String, next: String)
        case notice(ChannelNotice)
    }

    private(set) var entries: [Entry] = []

    func add(_ entry: Entry) { entries.append(entry) }

    var events: [ResolvedEvent] {
        entries.compactMap { if case .event(let event) = $0 { event } else { nil } }
    }

    var resets: [ChannelResetReason] {
        entries.compactMap { if case .reset(let reason) = $0 { reason } else { nil } }
    }

    var notices: [ChannelNotice] {
        entries.compactMap { if case .notice(let notice) = $0 { notice } else { nil } }
    }

    var openings: [ApplicationEndpoints] {
        entries.compactMap { if case .opened(let endpoints) = $0 { endpoints } else { nil } }
    }

    var batches: [(url: String, next: String)] {
        entries.compactMap { if case .batch(let url, let next) = $0 { (url, next) } else { nil } }
    }
}

/// The channel handler of the tests: resolves each event and records it.
struct RecordingHandler: EventChannelHandler {
    var resolver: Resolver
    let recorder: Recorder
    /// Time spent on each event (a slow sink).
    var delay: Duration = .zero

    mutating func opened(_ endpoints: ApplicationEndpoints) async throws { await recorder.add(.opened(endpoints)) }
    mutating func reset(_ reason: ChannelResetReason, details: ChannelResetDetails) async throws {
        if reason == .resync { resolver.forgetStates() }
        await recorder.add(.reset(reason))
    }
    mutating func event(_ event: UCWAEvent, baseURL: String) async throws {
        if delay > .zero { try await Task.sleep(for: delay) }
        for resolved in await resolver.submit(event, baseURL: baseURL) { await recorder.add(.event(resolved)) }
    }
    mutating func batchCompleted(url: String, next: String) async throws {
        for resolved in await resolver.drain() { await recorder.add(.event(resolved)) }
        await recorder.add(.batch(url: url, next: next))
    }
    mutating func notice(_ notice: ChannelNotice) async { await recorder.add(.notice(notice)) }
}

/// A simulator, a real HTTP client, a session and (once started) a running channel.
final class Harness: Sendable {
    let simulator: UCWASimulator
    let client: CurlClient
    let session: Session
    let recorder = Recorder()
    let channelTask = Locked<Task<Result<Void, any Error>, Never>?>(nil)

    static let quiet = Logger(label: "tests") { _ in SwiftLogNoOpLogHandler() }
    static let fastRetries = RetryPolicy(
        initialDelay: .milliseconds(50),
        maximumDelay: .milliseconds(400),
        jitter: 0,
        maximumRetryAfter: .seconds(5),
        maximumAttempts: 50
    )

    init(
        options: SimulatorOptions = SimulatorOptions(),
        password: String? = nil,
        endpointID: String = "test-endpoint",
        policy: RetryPolicy = Harness.fastRetries,
        clock: DaemonClock = .continuous
    ) async throws {
        simulator = try await UCWASimulator.start(options: options)
        client = CurlClient()
        let settings = SessionMachine.Settings(
            discoverURL: simulator.discoverURL,
            username: options.username,
            userAgent: "ucwa-eventd-tests/1.0",
            endpointID: endpointID,
            culture: "en-US"
        )
        session = Session(
            client: client,
            settings: settings,
            credentials: Credentials(username: options.username, password: password ?? options.password),
            policy: policy,
            logger: Self.quiet,
            clock: clock
        )
    }

    /// Starts the channel in the background (server `timeout` in seconds, short by default).
    func startChannel(
        timeoutSeconds: Int = 2,
        concurrency: Int = 8,
        resumeURL: String? = nil,
        policy: RetryPolicy = Harness.fastRetries,
        resolverPolicy: RetryPolicy = RetryPolicy(
            initialDelay: .milliseconds(20),
            maximumDelay: .milliseconds(100),
            jitter: 0,
            maximumRetryAfter: .seconds(2),
            maximumAttempts: 2
        )
    ) {
        let session = self.session
        let recorder = self.recorder
        let task = Task {
            var channel = EventChannel(
                session: session,
                handler: RecordingHandler(
                    resolver: Resolver(
                        session: session,
                        concurrency: concurrency,
                        policy: resolverPolicy,
                        logger: Harness.quiet
                    ),
                    recorder: recorder
                ),
                timeoutSeconds: timeoutSeconds,
                policy: policy,
                grace: .seconds(1),
                logger: Harness.quiet
            )
            do {
                try await channel.run(resumeURL: resumeURL)
                return Result<Void, any Error>.success(())
            } catch {
                return .failure(error)
            }
        }
        channelTask.withLock { $0 = task }
    }

    /// Waits until `condition` holds on the recorder, at most `timeout`.
    func waitUntil(
        _ what: String,
        timeout: Duration = .seconds(15),
        _ condition: @Sendable (Recorder) async -> Bool
    ) async throws {
        try await UCWATestSupport.waitUntil(what, timeout: timeout) { await condition(recorder) }
    }

    func waitForEvents(_ count: Int, timeout: Duration = .seconds(15)) async throws -> [ResolvedEvent] {
        try await waitUntil("\(count) events", timeout: timeout) { await $0.events.count >= count }
        return await recorder.events
    }

    /// Stops the channel and returns how it ended.
    func stop() async -> Result<Void, any Error>? {
        let task = channelTask.withLock { $0 }
        task?.cancel()
        let result = await task?.value
        client.shutdown()
        await simulator.shutdown()
        return result
    }

    /// Waits for the channel to end by itself.
    func ended(timeout: Duration = .seconds(15)) async throws -> Result<Void, any Error> {
        let task = try #require(channelTask.withLock { $0 })
        return try #require(await value(of: task, within: timeout), "the channel did not end")
    }
}

/// The event types and states of resolved events, for compact expectations.
func lifecycle(_ events: [ResolvedEvent]) -> [String] {
    events.map { "\($0.event.type.map { "\($0)" } ?? "?"):\($0.resource?.state?.string ?? "-")" }
}
