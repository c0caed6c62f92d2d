import CurlHTTP
import Logging
import StreamingJSON
import SystemCalls
import UCWA

/// Runs the event channel: `EventChannelMachine` decides, this does the I/O and never looks
/// at the machine's state (every action carries what it needs). Each poll's body
/// is decoded on the HTTP thread while it arrives, and its events go to the handler one by
/// one; a batch that arrives again after a broken transfer or a retry is not handed over
/// twice (events are skipped by their position in the batch).
struct EventChannel<Handler: EventChannelHandler> {
    /// The handler, handed back when the channel has stopped (the daemon's handler holds the
    /// persisted state it saves last).
    package private(set) var handler: Handler
    private var machine: EventChannelMachine
    private let session: Session
    private let limits: JSONLimits
    private let logger: Logger
    /// Orderly stop (nil: only cancellation stops the channel). The stop itself cancels the
    /// task running the channel; the channel tells it when a batch's hand-over begins and ends,
    /// and polls no more once it was asked.
    private let stop: StopSignal?
    /// How much longer than the server's `timeout` the client waits for a parked poll.
    private let grace: Duration
    /// Where batches that keep failing are saved before they are skipped (nil: not saved).
    let quarantineDirectory: String?
    /// Most decoded events waiting for the handler before the transfer pauses (back-pressure:
    /// memory stays bounded whatever the batch size and however slow the handler).
    private let eventsInFlight: Int
    /// Randomness for the retry jitter the machine is given after every poll.
    private var jitter = SplitMix64()

    /// Everything the channel works with comes in here; nothing is set afterwards.
    init(
        session: Session,
        handler: Handler,
        timeoutSeconds: Int,
        policy: RetryPolicy = RetryPolicy(),
        limits: JSONLimits = .eventChannel,
        grace: Duration = .seconds(30),
        eventsInFlight: Int = 1024,
        quarantineDirectory: String? = nil,
        stop: StopSignal? = nil,
        logger: Logger
    ) {
        self.session = session
        self.handler = handler
        self.machine = EventChannelMachine(timeoutSeconds: timeoutSeconds, policy: policy)
        self.limits = limits
        self.grace = grace
        self.eventsInFlight = eventsInFlight
        self.quarantineDirectory = quarantineDirectory
        self.stop = stop
        self.logger = logger
    }

    /// Signs in if needed and polls until cancelled or stopped (returns normally) or until the
    /// channel gives up (`ChannelGaveUp`, also for an internal inconsistency) or the session
    /// fails (`SessionFailure`). `resumeURL`: the events URL saved by a previous run, polled
    /// instead of the application's first one.
    mutating func run(resumeURL: String? = nil) async throws {
        var endpoints: ApplicationEndpoints
        if let known = await session.endpoints {
            endpoints = known
        } else {
            endpoints = try await session.bootstrap()
        }
        try await handler.opened(endpoints)
        var actions = machine.start(eventsURL: resumeURL ?? endpoints.eventsURL)
        while true {
            if Task.isCancelled { return }
            guard !actions.isEmpty else {
                // The machine promises a last action that asks for an input or stops.
                throw ChannelGaveUp(
                    stop: .internalInconsistency(
                        state: "unknown",
                        input: "an answer of the machine without a next action"
                    )
                )
            }
            let action = actions.removeFirst()
            switch action {
            case .poll(let request):
                let url = request.url
                if let batchURL = request.completes {
                    try await handler.batchCompleted(url: batchURL, next: url)
                }
                // The batch is written and checkpointed: a stop that waited for it goes ahead.
                stop?.endHandOver()
                if stop?.isRequested == true || Task.isCancelled { return }
                await handler.willPoll(url)
                let outcome: PollOutcome
                let handedOver: Int
                do {
                    (outcome, handedOver) = try await poll(request)
                } catch is CancellationError {
                    return
                }
                // A batch is finished at the next `.poll`; anything else ends the hand-over now
                // (its records are not checkpointed and come again).
                let batch = if case .batch = outcome { true } else { false }
                if !batch { stop?.endHandOver() }
                actions += machine.pollEnded(
                    request,
                    outcome,
                    handedOver: handedOver,
                    random: Double.random(in: 0..<1, using: &jitter)
                )

            case .wait(let backoff):
                logger.warning(
                    "event channel poll failed, retrying",
                    metadata: [
                        "url": "\(backoff.failedURL)", "reason": "\(backoff.reason)", "delay": "\(backoff.delay)",
                        "attempt": "\(backoff.attempt)",
                    ]
                )
                await handler.notice(.retrying(url: backoff.failedURL, reason: backoff.reason, delay: backoff.delay))
                guard await pause(backoff.delay) else { return }
                actions += machine.backoffElapsed(backoff)

            case .reset(let reason, let merged, let replacement):
                logger.warning(
                    "event channel reset",
                    metadata: ["reason": "\(reason.rawValue)", "merged_resets": "\(merged)"]
                )
                pinned = nil
                let details = ChannelResetDetails(
                    previousApplication: replacement?.previousApplication,
                    application: replacement?.endpoints.applicationURL,
                    serverError: replacement?.serverError,
                    mergedResets: merged
                )
                try await handler.reset(reason, details: details)
                // The reset explains the new application: it goes first.
                if let replacement { try await handler.opened(replacement.endpoints) }

            case .createApplication(let request):
                logger.warning(
                    "application gone, creating a new one",
                    metadata: ["reason": "\(request.reason.rawValue)", "url": "\(request.url)"]
                )
                let previous = endpoints.applicationURL
                endpoints = try await session.createApplication()
                // Opened after the reset record the machine asks for next.
                actions += machine.applicationCreated(request, created: endpoints, previousApplication: previous)

            case .reauthenticate(let request):
                try await session.reauthenticate(replacing: lastAuthorization)
                await handler.notice(.reauthenticated)
                actions += machine.reauthenticated(request)

            case .rediscover(let request):
                logger.warning(
                    "HTTP 403 on the event channel: discovering the server again and signing in anew (protocol notes 1.1)",
                    metadata: ["url": "\(request.url)", "subcode": "\(request.subcode ?? "-")"]
                )
                let previous = endpoints.applicationURL
                endpoints = try await session.rediscover()
                // Another application is opened after the `application_replaced` reset the
                // machine asks for next.
                actions += machine.rediscovered(request, found: endpoints, previousApplication: previous)

            case .anotherConsumer(let url):
                logger.error(
                    "another consumer is polling this application (409 PGetReplaced): another ucwa-eventd or client signed in with the same user, user agent and endpoint id; stop it, or give this daemon its own state directory (its endpoint id); backing off",
                    metadata: ["url": "\(url)"]
                )
                await handler.notice(.anotherConsumer(url: url))

            case .skipMalformed(let url, let next, let description):
                let saved = quarantine(url)
                logger.error(
                    "batch keeps failing to decode; skipping it",
                    metadata: [
                        "url": "\(url)", "error": "\(description)", "saved": "\(saved ?? "-")",
                    ]
                )
                await handler.notice(.skippedMalformedBatch(url: url, next: next, description: description))
                try await handler.reset(.batchSkipped, details: ChannelResetDetails())

            case .stop(let stop):
                throw ChannelGaveUp(stop: stop)
            }
        }
    }

    /// The `Authorization` header of the last poll: a 401 replaces that token (or finds it
    /// replaced already by a concurrent request). It stays in the shell: a cache of the last
    /// request's header for the session, it decides no protocol step.
    private var lastAuthorization: [HTTPHeader] = []

    /// One long poll: streams the body through the decoder, hands the events over, and says
    /// how it ended and the position after the last event it handed over (0: none). A body
    /// read with its events dropped past the base hold (`BodyBaseHold`: more than
    /// `eventsInFlight` events before its `baseuri`, or none at all) is read again with the base
    /// it showed, skipping the events already handed over.
    private mutating func poll(_ poll: PollRequest) async throws -> (PollOutcome, handedOver: Int) {
        let url = poll.url
        var handedOver = 0
        while true {
            let (outcome, handed, readAgainWith) = try await pollOnce(
                poll,
                skip: handedOver > 0 ? handedOver : poll.skip,
                pinnedBase: pinned?.url == url ? pinned?.base : nil
            )
            if handed > 0 { handedOver = handed }
            guard let base = readAgainWith else {
                if case .batch = outcome { pinned = nil }
                return (outcome, handedOver)
            }
            logger.debug(
                "reading the batch again: its events outran the wait for its baseuri",
                metadata: ["url": "\(url)"]
            )
            pinned = (url, base)
        }
    }

    /// The base learnt from a whole read of the body at `url`, kept for its later reads (a
    /// retry after a broken second read does not start waiting for the base again). It stays
    /// in the shell: a cache of what a read of the body showed, it decides no protocol step.
    private var pinned: (url: String, base: String)?

    /// One transfer of a poll, skipping the events at positions below `skip`; `handed`: the
    /// position after the last event it handed over (0: none); `readAgainWith`: the base to
    /// read the body again with.
    private mutating func pollOnce(
        _ poll: PollRequest,
        skip: Int,
        pinnedBase: String?
    ) async throws -> (PollOutcome, handed: Int, readAgainWith: String?) {
        let url = poll.url
        lastAuthorization = try await session.authorization()
        let headers = Session.accept + lastAuthorization
        let request = CurlRequest(
            url: url,
            headers: headers,
            timeouts: .longPoll(serverTimeout: .seconds(poll.timeoutSeconds), grace: grace)
        )
        let (stream, continuation) = AsyncStream.makeStream(of: ChannelItem.self)
        let client = session.client
        let limits = self.limits
        let flow = TransferFlow(highWater: eventsInFlight, lowWater: eventsInFlight / 4)
        // A batch that failed before is also saved as it arrives, for the quarantine.
        let capture = poll.capture ? quarantineDirectory.map { Quarantine(directory: $0).startCapture() } : nil
        defer { if let capture { captureFailure = capture.finish() } }
        // On the HTTP client's thread, like the channel's task that awaits it (an unstructured
        // task does not inherit the preference): the batch does not cross threads.
        let transfer = Task(executorPreference: client.taskExecutor) {
            () throws -> (response: CurlResponse, incomplete: JSONError?) in
            defer { continuation.finish() }
            var (response, consumer) = try await client.stream(
                request,
                into: ChannelBodyConsumer(continuation: continuation, flow: flow, limits: limits, capture: capture),
                flow: flow
            )
            guard response.isSuccess else { return (response, nil) }
            do {
                try consumer.finish()
                return (response, nil)
            } catch let error as JSONError {
                return (response, error)
            }
        }
        var handed = 0
        var links = BatchLinks()
        var hold = BodyBaseHold(requestURL: url, pinnedBase: pinnedBase, limit: eventsInFlight)
        var handingOver = false
        // A stop cancels this task (`StopSignal`): the handler below drops the transfer, which
        // ends a parked poll at once.
        do {
            try await withTaskCancellationHandler {
                for await item in stream {
                    switch item {
                    case .events(let events):
                        for event in events {
                            if !handingOver {
                                // From the first event on, a stop waits for the batch's end.
                                handingOver = true
                                stop?.beginHandOver()
                            }
                            peakEventsWaiting = max(peakEventsWaiting, flow.pending)
                            // Held events count as consumed: the hold has its own bound.
                            flow.consumed()
                            guard event.position.ordinal >= skip else { continue }
                            if let ready = hold.take(event) {
                                try await handler.event(ready, baseURL: hold.base)
                                handed = ready.position.ordinal + 1
                            }
                        }
                    case .link(let kind, let href):
                        links[kind] = href
                    case .baseURI(let uri):
                        for ready in hold.baseURI(uri) {
                            try await handler.event(ready, baseURL: hold.base)
                            handed = ready.position.ordinal + 1
                        }
                    }
                }
            } onCancel: {
                transfer.cancel()
            }
        } catch {
            transfer.cancel()
            throw error
        }
        let result = await transfer.result
        /// The end of a body that was read (whole, or up to a decoding error: the events before
        /// the error still go): the held events go with the base found; true when the body
        /// must be read again. A transfer that broke keeps its held events for the retry.
        func release() async throws -> Bool {
            let (events, again) = hold.end()
            for ready in events {
                try await handler.event(ready, baseURL: hold.base)
                handed = ready.position.ordinal + 1
            }
            return again
        }

        switch result {
        case .success(let (response, incomplete)):
            guard response.isSuccess else {
                let error = UCWAErrorBody.parse(response.body)
                let retryAfter = RetryAfter.parse(
                    response.headerValue("Retry-After"),
                    now: WallClock.secondsSince1970()
                )
                return (
                    .status(response.status, subcode: error?.subcode, retryAfter: retryAfter, error: error), handed, nil
                )
            }
            let again = try await release()
            if let incomplete {
                return (.malformed(description: "\(url): \(incomplete)", next: links.next), handed, nil)
            }
            if again { return (.batch(BatchLinks()), handed, hold.base) }
            return (.batch(links, base: hold.base), handed, nil)
        case .failure(let error as JSONError):
            _ = try await release()
            return (.malformed(description: "\(url): \(error)", next: links.next), handed, nil)
        case .failure(let error as CurlClientError):
            return (.transport(description: error.description, retryable: error.isRetryable), handed, nil)
        case .failure(let error):
            throw error
        }
    }

    /// Why the last capture for the quarantine is missing or incomplete, if it is. It stays in
    /// the shell: the outcome of file I/O, reported in the log only.
    private var captureFailure: SystemCallError?

    /// Moves the captured copy of the batch at `url` into the quarantine: its path, or why it
    /// was not saved (for the log). The machine skips only the batch whose poll just failed to
    /// decode, so the capture (if any) is of that body.
    private func quarantine(_ url: String) -> String? {
        guard let directory = quarantineDirectory else { return nil }
        if let captureFailure { return "not saved: \(captureFailure)" }
        do {
            return try Quarantine(directory: directory).keep(batchAt: url)
        } catch {
            return "not saved: \(error)"
        }
    }

    /// Sleeps for a backoff on the session's clock; false when a stop or cancellation ended it.
    /// (The watchdog and `STATUS=` are kept fresh by the daemon's own heartbeat,
    /// `DaemonStatus.tick()`, which also covers sign-in.)
    private mutating func pause(_ delay: Duration) async -> Bool {
        do {
            try await session.clock.sleep(for: delay)
        } catch {
            return false
        }
        return stop?.isRequested != true
    }

    /// The most events seen waiting for the handler at once (for tests and benchmarks).
    package private(set) var peakEventsWaiting = 0
}
