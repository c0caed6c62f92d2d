import CurlHTTP
import Logging
import StreamingJSON
import UCWA

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's exit codes (DESIGN.md §3).
package enum ExitStatus {
    static let clean: Int32 = 0
    static let usage: Int32 = 64
    /// An internal inconsistency (a bug): EX_SOFTWARE. Restarted (from the checkpoint).
    static let internalInconsistency: Int32 = 70
    package static let temporaryFailure: Int32 = 75
    /// The server refuses this user or client until an operator acts (410
    /// `TooManyApplications`/`UserAgentNotAllowed`, 403 after a new sign-in). Not restarted.
    static let serverRefused: Int32 = 76
    static let credentialsRejected: Int32 = 77
    package static let configuration: Int32 = 78
}

/// Which sink, decided at start.
package enum SinkChoice: Sendable {
    case stdout(descriptor: Int32)
    case journald
}

/// One run of the daemon: sign in (or resume the checkpoint's application), hold the event
/// channel, write records, checkpoint after every batch, stop in order on `stop`.
package struct Daemon: Sendable {
    var configuration: Configuration
    var password: String
    var environment: [String: String]
    var logger: Logger
    var stop: StopSignal
    package var stats = DaemonStats()
    /// `STATUS=`, `READY=1`, the watchdog; made from `stats` and the environment when nil.
    package var status: DaemonStatus?
    /// What SIGHUP may change.
    package var live: LiveSettings
    /// Retry policy of the session and the channel.
    package var policy = RetryPolicy()
    /// For tests and the demo: the long poll's grace beyond the server timeout.
    package var grace: Duration = .seconds(30)
    /// For tests and the demo: the server `timeout` actually sent (UCWA's minimum is 180 s).
    package var timeoutOverride: Int?
    /// Limits of an event-channel body (`MaxBatchBytes=`, 1 GiB by default).
    var channelLimits: JSONLimits = .eventChannel
    /// What the session, the channel and the resolver measure their own waits with.
    var clock: DaemonClock

    package init(
        configuration: Configuration,
        password: String,
        environment: [String: String],
        logger: Logger,
        stop: StopSignal,
        clock: DaemonClock = .continuous
    ) {
        self.clock = clock
        self.configuration = configuration
        self.password = password
        self.environment = environment
        self.logger = logger
        self.stop = stop
        self.live = LiveSettings(events: configuration.events)
        self.channelLimits = JSONLimits(maxDocumentBytes: configuration.maxBatchBytes)
        // Diagnostics name the account (journald: UCWAD_ACCOUNT), as records do.
        self.logger[metadataKey: "account"] = "\(configuration.effectiveAccount)"
    }

    /// Runs until stopped or failed; returns the exit code.
    package func run(sink choice: SinkChoice) async -> Int32 {
        switch choice {
        case .stdout(let descriptor):
            return await run(sink: StdoutSink(descriptor: descriptor))
        case .journald:
            do {
                return await run(sink: try JournalSink())
            } catch {
                logger.critical("\(error)")
                return ExitStatus.temporaryFailure
            }
        }
    }

    /// What the work task hands back: the session (for `DeleteOnStop=`) and the persisted
    /// state, whose closing checkpoint is saved last.
    struct Finished: Sendable {
        var session: Session
        var state: PersistedState
    }

    /// The run, in order:
    /// 1. load the checkpoint (the configuration and the password were loaded by the caller);
    /// 2. `READY=1`: from here the daemon runs and retries on its own, so `systemctl start`
    ///    returns within seconds whether or not the server can be reached. A successful start
    ///    promises that the configuration is valid, the password readable and the state
    ///    directory usable; it does not promise that the server answered or accepted the
    ///    password: `STATUS=` says what the daemon waits for, and a rejected password still
    ///    ends it with exit 77 (no restart);
    /// 3. the work — sign-in, then the event channel — in one task that a stop (SIGTERM)
    ///    cancels (`StopSignal`), on the HTTP client's thread;
    /// 4. after it: `DeleteOnStop=`, then the exit code.
    /// A heartbeat task sends `WATCHDOG=1` and a fresh `STATUS=` all along, sign-in included
    /// (`DaemonStatus.tick()`); it runs on the HTTP client's thread too, so a sink or an fsync
    /// that blocks that thread stops the pings and the watchdog restarts the daemon.
    func run<Sink: RecordSink>(sink: sending Sink) async -> Int32 {
        let status = self.status ?? DaemonStatus(notifier: Notifier(environment: environment), stats: stats)
        let store = CheckpointStore(directory: configuration.stateDirectory)
        let client = CurlClient(
            configuration: .init(
                caFile: configuration.caFile,
                allowInsecureHTTP: configuration.allowInsecureHTTP,
                userAgent: configuration.userAgent
            )
        )
        defer { client.shutdown() }
        let state: PersistedState
        do {
            if let saved = try store.load() {
                state = PersistedState(restoring: saved)
                logger.info(
                    "resuming from the checkpoint",
                    metadata: ["events_url": "\(saved.eventsURL ?? "-")", "sequence": "\(saved.sequence)"]
                )
            } else {
                state = PersistedState(restoring: Checkpoint(endpointID: Checkpoint.newEndpointID()))
                try store.save(state.checkpoint)
                logger.info(
                    "no checkpoint: starting a new one",
                    metadata: ["state_directory": "\(configuration.stateDirectory)"]
                )
            }
        } catch {
            return exitCode(for: error)
        }
        let discoverURL = configuration.discoverURL ?? ""
        status.ready(signingInTo: discoverURL)
        logger.info("started (READY=1): signing in", metadata: ["discover_url": "\(StatusText.url(discoverURL))"])

        let heartbeat = status.tickInterval.map { interval in
            Task(executorPreference: client.taskExecutor) {
                while (try? await Task.sleep(for: interval)) != nil {
                    status.tick()
                }
            }
        }
        defer { heartbeat?.cancel() }

        let work = Task(executorPreference: client.taskExecutor) { [self] () async throws -> Finished in
            try await self.work(sink: sink, client: client, store: store, state: state, status: status)
        }
        if !stop.attach(cancel: { work.cancel() }) {
            work.cancel()
        }
        let result = await work.result
        stop.detach()
        heartbeat?.cancel()

        switch result {
        case .success(let finished):
            status.stopping()
            if configuration.deleteOnStop {
                await deleteApplication(finished, store: store, client: client)
            } else {
                try? store.save(finished.state.closing())
            }
            logger.info("stopped", metadata: ["records": "\(stats.records)"])
            return ExitStatus.clean
        case .failure(let error as CancellationError):
            guard stop.isRequested else {
                logger.critical("the daemon's work was cancelled without a stop: \(error)")
                return ExitStatus.temporaryFailure
            }
            status.stopping()
            logger.info("stopped", metadata: ["records": "\(stats.records)"])
            return ExitStatus.clean
        case .failure(let error):
            return exitCode(for: error)
        }
    }

    /// Sign-in, then the event channel until a stop (returns) or a failure (throws). A stop
    /// that cancels the channel returns what it had, so `DeleteOnStop=` still finds the
    /// application; a stop during sign-in throws `CancellationError`.
    private func work<Sink: RecordSink>(
        sink: Sink,
        client: CurlClient,
        store: CheckpointStore,
        state saved: PersistedState,
        status: DaemonStatus
    ) async throws -> Finished {
        var state = saved
        let session = Session(
            client: client,
            settings: SessionMachine.Settings(
                discoverURL: configuration.discoverURL ?? "",
                username: configuration.username ?? "",
                userAgent: configuration.userAgent,
                endpointID: state.endpointID,
                culture: configuration.culture
            ),
            credentials: Credentials(username: configuration.username ?? "", password: password),
            policy: policy,
            logger: logger,
            clock: clock,
            progress: { progress in
                switch progress {
                case .requesting(let url):
                    status.set(.signingIn(url: url))
                case .retrying(let url, let reason, let delay):
                    status.set(.signInWaiting(url: url, reason: reason, retryAt: .after(delay)))
                }
            }
        )
        let endpoints = try await session.bootstrap()
        // The application of the last run may be gone: its unacknowledged events too.
        let (resumeURL, applicationLost) = state.resume(on: endpoints.applicationURL)
        let handler = DaemonHandler(
            resolver: Resolver(
                session: session,
                concurrency: configuration.resolveConcurrency,
                resolvePeople: configuration.resolvePeople,
                logger: logger
            ),
            builder: RecordBuilder(account: configuration.effectiveAccount, filter: configuration.events),
            sink: sink,
            state: state,
            store: store,
            status: status,
            logger: logger,
            live: live,
            pendingReset: applicationLost ? .applicationNotFound : nil
        )
        var channel = EventChannel(
            session: session,
            handler: handler,
            timeoutSeconds: timeoutOverride ?? configuration.timeoutSeconds,
            policy: policy,
            limits: channelLimits,
            grace: grace,
            quarantineDirectory: configuration.stateDirectory + "/quarantine",
            stop: stop,
            logger: logger
        )
        // This task runs on the HTTP client's thread (README, "One thread does the work"): a
        // finished transfer resumes its task there, with no hand-over to a pool thread.
        do {
            try await channel.run(resumeURL: resumeURL)
        } catch let error where error is CancellationError && stop.isRequested {
            // Stopped while it re-created the application or resolved a batch it then gave up.
        }
        // The channel returns only for a stop; anything else would be a silent exit 0 that
        // `Restart=on-failure` never brings back.
        guard stop.isRequested || Task.isCancelled else {
            throw ChannelGaveUp(
                stop: .internalInconsistency(state: "running", input: "the event channel's loop ended without a stop")
            )
        }
        return Finished(session: session, state: channel.handler.state)
    }

    /// `DeleteOnStop=yes`: one DELETE of the application (at most 5 s, so that a dead server
    /// cannot hold the stop), then the checkpoint forgets it and keeps the sequence.
    private func deleteApplication(_ finished: Finished, store: CheckpointStore, client: CurlClient) async {
        let deletion = Task(executorPreference: client.taskExecutor) {
            try? await finished.session.deleteApplication()
        }
        let deadline = Task {
            try await Task.sleep(for: .seconds(5))
            deletion.cancel()
        }
        await deletion.value
        deadline.cancel()
        try? store.save(finished.state.closingWithoutApplication())
    }

    /// The exit code for a failure, logged.
    func exitCode(for error: any Error) -> Int32 {
        switch error {
        case let error as SinkError where error == .brokenPipe:
            logger.notice("stdout closed by its reader: stopping")
            return ExitStatus.clean
        case let failure as SessionFailure:
            logger.critical("\(failure)")
            return failure.exitCode
        case let error as CurlClientError:
            logger.critical("\(error)")
            return error.isRetryable ? ExitStatus.temporaryFailure : ExitStatus.configuration
        case let error as ChannelGaveUp:
            logger.critical("\(error)")
            return error.stop.exitCode
        case let error as RetryBudgetSpent:
            logger.critical("\(error)")
            return ExitStatus.temporaryFailure
        case let error as CheckpointError:
            logger.critical("checkpoint: \(error)")
            return ExitStatus.temporaryFailure
        default:
            logger.critical("\(error)")
            return ExitStatus.temporaryFailure
        }
    }
}
