import Testing

@testable import CurlHTTP
@testable import Locking
@testable import StreamingJSON
@testable import UCWA
@testable import UCWASimulator

#if canImport(Glibc)
import Glibc
#endif

/// Collects a streamed body and counts the chunks, as the batch decoder would see them.
struct ChunkCounter: HTTPBodyConsumer {
    var bytes: [UInt8] = []
    var chunks = 0
    mutating func consume(_ chunk: UnsafeRawBufferPointer) throws {
        bytes += chunk
        chunks += 1
    }
}

struct ConsumerRefusal: Error {}

struct RefusingConsumer: HTTPBodyConsumer {
    mutating func consume(_ chunk: UnsafeRawBufferPointer) throws { throw ConsumerRefusal() }
}

@Suite struct HTTPClientTests {
    @Test func getBuffersASmallDocumentOverLoopback() async throws {
        let simulator = try await UCWASimulator.start()
        let client = CurlClient()
        defer { client.shutdown() }
        let response = try await client.execute(
            CurlRequest(url: simulator.discoverURL, headers: [HTTPHeader("Accept", "application/json")])
        )
        #expect(response.status == 200)
        let document = try JSONValue.parse(response.body)
        #expect(
            document["_links"]?["user"]?["href"]?.stringValue?.hasSuffix("/oauth/user?originalDomain=contoso.com")
                == true
        )
        #expect(response.headerValue("content-type") == "application/json")
        await simulator.shutdown()
    }

    /// Faults injected together are armed in one step: the requests that follow meet them back
    /// to back, then the server answers as before (the race behind stop 20's red CI run).
    @Test func faultsInjectedTogetherMeetTheNextRequestsInTurn() async throws {
        let simulator = try await UCWASimulator.start()
        let client = CurlClient()
        defer { client.shutdown() }
        await simulator.inject(.answer(.events, status: 403, subcode: "NotAllowed"), times: 2)
        let url = simulator.baseURL + "/ucwa/oauth/v1/applications/999/events?ack=1"
        var statuses: [Int] = []
        for _ in 0..<3 { statuses.append(try await client.execute(CurlRequest(url: url)).status) }
        #expect(statuses == [403, 403, 401], "two injected answers, then the server asks for a token")
        await simulator.shutdown()
    }

    @Test func responseHeadersKeepEveryValueOfARepeatedHeader() async throws {
        let simulator = try await UCWASimulator.start()
        let client = CurlClient()
        defer { client.shutdown() }
        let response = try await client.execute(
            CurlRequest(url: simulator.baseURL + "/Autodiscover/AutodiscoverService.svc/root/oauth/user")
        )
        #expect(response.status == 401)
        let challenges = response.headerValues("WWW-Authenticate")
        #expect(challenges.count == 2)
        #expect(challenges.last?.hasPrefix("MsRtcOAuth ") == true)
        await simulator.shutdown()
    }

    @Test func postSendsTheBodyAndItsContentType() async throws {
        let simulator = try await UCWASimulator.start(
            options: SimulatorOptions(username: "a@b.c", password: "p&ss w=rd")
        )
        let client = CurlClient()
        defer { client.shutdown() }
        let form = "grant_type=password&username=a%40b.c&password=p%26ss+w%3Drd"
        let response = try await client.execute(
            CurlRequest(
                .post,
                url: simulator.baseURL + "/WebTicket/oauthtoken",
                headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")],
                body: Array(form.utf8)
            )
        )
        #expect(response.status == 200)
        #expect(try JSONValue.parse(response.body)["access_token"]?.stringValue?.hasPrefix("cwt=") == true)
    }

    @Test func streamedBodyReachesTheConsumerInChunksWithoutBuffering() async throws {
        let simulator = try await UCWASimulator.start()
        let client = CurlClient()
        defer { client.shutdown() }
        await simulator.inject(.oneByteChunks)
        let response = try await client.execute(CurlRequest(url: simulator.discoverURL))
        // The fault applies to event batches only; the root document arrives normally.
        #expect(response.status == 200)
        let (streamed, consumer) = try await client.stream(
            CurlRequest(url: simulator.discoverURL),
            into: ChunkCounter()
        )
        #expect(streamed.status == 200)
        #expect(streamed.body.isEmpty, "a 2xx body goes to the consumer only")
        #expect(consumer.bytes == response.body)
        #expect(consumer.chunks >= 1)
    }

    @Test func nonSuccessBodyOfAStreamedRequestIsKeptForTheCaller() async throws {
        let simulator = try await UCWASimulator.start()
        let client = CurlClient()
        defer { client.shutdown() }
        let (response, consumer) = try await client.stream(
            CurlRequest(url: simulator.baseURL + "/ucwa/oauth/v1/nothing/here"),
            into: ChunkCounter()
        )
        #expect(response.status == 401 || response.status == 404)
        #expect(consumer.chunks == 0)
        #expect(!response.body.isEmpty)
    }

    @Test func consumerErrorAbortsTheTransferAndIsRethrownUnchanged() async throws {
        let simulator = try await UCWASimulator.start()
        let client = CurlClient()
        defer { client.shutdown() }
        await #expect(throws: ConsumerRefusal.self) {
            _ = try await client.stream(CurlRequest(url: simulator.discoverURL), into: RefusingConsumer())
        }
        // The client goes on working after an aborted transfer.
        #expect(try await client.execute(CurlRequest(url: simulator.discoverURL)).status == 200)
    }

    @Test func plainHTTPToANonLoopbackHostIsRefusedBeforeAnyConnection() async throws {
        let client = CurlClient()
        defer { client.shutdown() }
        let error = await #expect(throws: CurlClientError.self) {
            _ = try await client.execute(CurlRequest(url: "http://user:secret@ucwa.example.com/x"))
        }
        #expect(error?.kind == .insecureURL)
        #expect(error?.url.contains("secret") == false, "\(error?.url ?? "")")
        #expect(error?.description.contains("AllowInsecureHTTP") == true)
    }

    /// A host name that merely starts like a loopback address is not loopback (`LoopbackHost`).
    /// (libcurl normalises `127.1` to `127.0.0.1`, which is loopback, before the check sees it.)
    @Test(arguments: ["http://127.evil.example/x", "http://localhost.evil.example/x", "http://0x7f.evil/x"])
    func plainHTTPToANameThatLooksLikeLoopbackIsRefused(url: String) async throws {
        let client = CurlClient()
        defer { client.shutdown() }
        let error = await #expect(throws: CurlClientError.self) { _ = try await client.execute(CurlRequest(url: url)) }
        #expect(error?.kind == .insecureURL, "\(url)")
    }

    @Test func plainHTTPIsAllowedOffLoopbackOnlyWhenConfigured() async throws {
        let client = CurlClient(configuration: .init(allowInsecureHTTP: true))
        defer { client.shutdown() }
        // Allowed: the request goes out and fails on the name, not on the policy.
        let error = await #expect(throws: CurlClientError.self) {
            _ = try await client.execute(
                CurlRequest(
                    url: "http://ucwa.invalid/",
                    timeouts: .init(connect: .seconds(5), lowSpeedWindow: nil, total: .seconds(10))
                )
            )
        }
        #expect(error?.kind == .unresolvedHost)
    }

    @Test func unresolvableNameIsAClearRetryableError() async throws {
        let client = CurlClient()
        defer { client.shutdown() }
        let error = await #expect(throws: CurlClientError.self) {
            _ = try await client.execute(CurlRequest(url: "https://lyncdiscover.does-not-exist.invalid/"))
        }
        #expect(error?.kind == .unresolvedHost)
        #expect(error?.curlCode == 6)
        #expect(error?.isRetryable == true)
        #expect(error?.description.contains("lyncdiscover.does-not-exist.invalid") == true)
    }

    @Test func refusedConnectionNamesTheURL() async throws {
        let client = CurlClient()
        defer { client.shutdown() }
        let error = await #expect(throws: CurlClientError.self) {
            _ = try await client.execute(CurlRequest(url: "http://127.0.0.1:1/root"))
        }
        #expect(error?.kind == .connectFailed)
        #expect(error?.url == "http://127.0.0.1:1/root")
    }

    @Test func cancellingTheTaskStopsAParkedLongPollAtOnce() async throws {
        let simulator = try await UCWASimulator.start()
        let client = CurlClient()
        defer { client.shutdown() }
        let token = try await SimulatorClient.token(client, simulator)
        let events = try await SimulatorClient.createApplication(client, simulator, token: token)
        let clock = ContinuousClock()
        let started = clock.now
        let poll = Task {
            try await client.execute(
                CurlRequest(
                    url: simulator.baseURL + events + "&timeout=600",
                    headers: [HTTPHeader("Authorization", "Bearer \(token)")],
                    timeouts: .longPoll(serverTimeout: .seconds(600))
                )
            )
        }
        try await Task.sleep(for: .milliseconds(300))
        poll.cancel()
        await #expect(throws: CancellationError.self) { _ = try await poll.value }
        #expect(clock.now - started < .seconds(5))
    }

    @Test func totalTimeoutEndsASilentPoll() async throws {
        let simulator = try await UCWASimulator.start()
        let client = CurlClient()
        defer { client.shutdown() }
        let token = try await SimulatorClient.token(client, simulator)
        let events = try await SimulatorClient.createApplication(client, simulator, token: token)
        await simulator.inject(.silentPoll)
        let error = await #expect(throws: CurlClientError.self) {
            _ = try await client.execute(
                CurlRequest(
                    url: simulator.baseURL + events + "&timeout=1",
                    headers: [HTTPHeader("Authorization", "Bearer \(token)")],
                    timeouts: .longPoll(serverTimeout: .seconds(1), grace: .milliseconds(500))
                )
            )
        }
        #expect(error?.kind == .timedOut)
        #expect(error?.isRetryable == true)
    }

    /// A response whose body stalls is ended by the low-speed limit, well before the total
    /// limit, with curl's timeout code and its "too slow" detail. The body stalls before its
    /// first byte: libcurl averages the rate over its last five seconds, so bytes sent before a
    /// stall would keep that average above the limit for up to that long; with none, the rate
    /// is below the limit at once and the abort comes after the configured low-speed time.
    @Test func aBodyThatStallsIsEndedByTheLowSpeedLimit() async throws {
        let simulator = try await UCWASimulator.start()
        let client = CurlClient()
        defer { client.shutdown() }
        let token = try await SimulatorClient.token(client, simulator)
        let events = try await SimulatorClient.createApplication(client, simulator, token: token)
        await simulator.play(InvitationScript())
        await simulator.inject(.stallBeforeBody)
        let clock = ContinuousClock()
        let started = clock.now
        let error = await #expect(throws: CurlClientError.self) {
            _ = try await client.execute(
                CurlRequest(
                    url: simulator.baseURL + events,
                    headers: [HTTPHeader("Authorization", "Bearer \(token)")],
                    timeouts: HTTPTimeouts(connect: .seconds(5), lowSpeedWindow: .seconds(1), total: .seconds(30))
                )
            )
        }
        let elapsed = clock.now - started
        #expect(error?.kind == .timedOut)
        #expect(error?.isRetryable == true)
        #expect(error?.description.contains("Operation too slow") == true, "\(String(describing: error))")
        #expect(elapsed >= .milliseconds(900), "aborted after \(elapsed), before the low-speed time")
        #expect(elapsed < .seconds(4), "aborted after \(elapsed)")
    }

    @Test func connectionsAreReusedAcrossRequests() async throws {
        let simulator = try await UCWASimulator.start()
        let client = CurlClient()
        defer { client.shutdown() }
        for _ in 0..<5 {
            #expect(try await client.execute(CurlRequest(url: simulator.discoverURL)).status == 200)
        }
        #expect(await simulator.stats().connectionsAccepted == 1)
    }

    @Test func manyConcurrentRequestsFromManyTasksAllComplete() async throws {
        let simulator = try await UCWASimulator.start()
        let client = CurlClient()
        defer { client.shutdown() }
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<64 {
                group.addTask { try await client.execute(CurlRequest(url: simulator.discoverURL)).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 64))
    }

    @Test func bufferedBodyOverItsLimitIsAClearError() async throws {
        let simulator = try await UCWASimulator.start()
        let client = CurlClient()
        defer { client.shutdown() }
        let error = await #expect(throws: CurlClientError.self) {
            _ = try await client.execute(CurlRequest(url: simulator.discoverURL), bodyLimit: 16)
        }
        #expect(error?.kind == .bodyTooLarge)
    }
}

/// The client's thread as a task executor (what the daemon runs its channel on).
@Suite struct HTTPClientExecutorTests {
    static func threadID() -> UInt { UInt(pthread_self()) }

    /// Notes the thread that libcurl's write callback runs on: the client's own thread.
    struct ThreadRecorder: HTTPBodyConsumer {
        var thread: UInt = 0
        mutating func consume(_ chunk: UnsafeRawBufferPointer) throws { thread = HTTPClientExecutorTests.threadID() }
    }

    /// A task that prefers the client's executor runs on the client's thread — the one that
    /// delivers the bodies — and is resumed there after each transfer, not on the pool.
    @Test func aTaskPreferringTheClientRunsOnItsThread() async throws {
        let simulator = try await UCWASimulator.start()
        let client = CurlClient()
        defer { client.shutdown() }
        let (curlThread, threads) = try await withTaskExecutorPreference(client.taskExecutor) {
            var threads: [UInt] = [Self.threadID()]
            var curlThread: UInt = 0
            for _ in 0..<20 {
                let (response, recorder) = try await client.stream(
                    CurlRequest(url: simulator.discoverURL),
                    into: ThreadRecorder()
                )
                #expect(response.status == 200)
                curlThread = recorder.thread
                threads.append(Self.threadID())
            }
            return (curlThread, threads)
        }
        #expect(curlThread != 0)
        #expect(Set(threads) == [curlThread])
        // A task without the preference, meanwhile, is not held to that thread.
        let other = try await Task.detached { () throws -> UInt in
            _ = try await client.execute(CurlRequest(url: simulator.discoverURL))
            return Self.threadID()
        }.value
        #expect(other != threads[0])
        await simulator.shutdown()
    }

    /// A task on the client's thread that keeps yielding (it is re-queued at once, every time)
    /// does not starve the transfers: the thread still turns to libcurl between rounds of jobs.
    @Test func aYieldingTaskDoesNotStarveTransfers() async throws {
        let simulator = try await UCWASimulator.start()
        let client = CurlClient()
        defer { client.shutdown() }
        let finished = Locked(false)
        let request = Task.detached {
            defer { finished.withLock { $0 = true } }
            return try await client.execute(CurlRequest(url: simulator.discoverURL)).status
        }
        let spun = await withTaskExecutorPreference(client.taskExecutor) { () async -> Duration in
            let clock = ContinuousClock()
            let start = clock.now
            while !finished.withLock({ $0 }) && clock.now - start < .seconds(10) {
                await Task.yield()
            }
            return clock.now - start
        }
        // The transfer ends soon after the thread turns to libcurl; with no bound on the rounds
        // of jobs it never would, and this loop would spin until the 10 s guard.
        #expect(spun < .seconds(2))
        #expect(try await request.value == 200)
        await simulator.shutdown()
    }

    /// Shutting the client down from a task on its own thread neither deadlocks (the thread
    /// cannot join itself) nor strands the task: it and later requests go on, failing cleanly.
    @Test func shutdownFromTheClientsOwnThreadEndsCleanly() async throws {
        let simulator = try await UCWASimulator.start()
        let client = CurlClient()
        let outcome = await withTaskExecutorPreference(client.taskExecutor) { () async -> String in
            do {
                _ = try await client.execute(CurlRequest(url: simulator.discoverURL))
            } catch {
                return "first request failed: \(error)"
            }
            client.shutdown()
            do {
                _ = try await client.execute(CurlRequest(url: simulator.discoverURL))
                return "a request after shutdown succeeded"
            } catch is CancellationError {
                // Still running, now on the global executor.
                try? await Task.sleep(for: .milliseconds(10))
                return "cancelled"
            } catch {
                return "unexpected: \(error)"
            }
        }
        #expect(outcome == "cancelled")
        await simulator.shutdown()
    }
}

/// Bootstrap steps done by hand (not through the daemon's Session), for client-level tests.
enum SimulatorClient {
    static func token(_ client: CurlClient, _ simulator: UCWASimulator, pool: String = "") async throws -> String {
        let options = SimulatorOptions()
        let form = FormEncoding.encode([
            ("grant_type", "password"), ("username", options.username), ("password", options.password),
        ])
        let response = try await client.execute(
            CurlRequest(
                .post,
                url: simulator.baseURL + pool + "/WebTicket/oauthtoken",
                headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded")],
                body: Array(form.utf8)
            )
        )
        return try #require(try JSONValue.parse(response.body)["access_token"]?.stringValue)
    }

    /// Creates an application; returns its events href (relative, with `?ack=`).
    static func createApplication(
        _ client: CurlClient,
        _ simulator: UCWASimulator,
        token: String
    ) async throws -> String {
        let body = #"{"userAgent":"tests/1.0","endpointId":"e1","culture":"en-US"}"#
        let response = try await client.execute(
            CurlRequest(
                .post,
                url: simulator.baseURL + "/ucwa/oauth/v1/applications",
                headers: [
                    HTTPHeader("Authorization", "Bearer \(token)"), HTTPHeader("Content-Type", "application/json"),
                ],
                body: Array(body.utf8)
            )
        )
        #expect(response.status == 201)
        return try #require(try JSONValue.parse(response.body)["_links"]?["events"]?["href"]?.stringValue)
    }
}
