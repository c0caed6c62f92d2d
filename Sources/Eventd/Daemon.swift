import CurlHTTP
import Logging
import StreamingJSON
import UCWA

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's exit codes (DESIGN.md §3).
public enum ExitCode {
    public static let clean: Int32 = 0
    public static let usage: Int32 = 64
    public static let temporaryFailure: Int32 = 75
    public static let credentialsRejected: Int32 = 77
    public static let configuration: Int32 = 78
}

/// Which sink, decided at start.
public enum SinkChoice: Sendable {
    case stdout(descriptor: Int32)
    case journald
}

/// One run of the daemon: sign in (or resume the checkpoint's application), hold the event
/// channel, write records, checkpoint after every batch, stop in order on `stop`.
public struct Daemon: Sendable {
    public var configuration: Configuration
    public var password: String
    public var environment: [String: String]
    public var logger: Logger
    public var stop: StopSignal
    public var stats = DaemonStats()
    /// What SIGHUP may change.
    public var live: LiveSettings
    /// Retry policy of the session and the channel.
    public var policy = RetryPolicy()
    /// For tests and the demo: the long poll's grace beyond the server timeout.
    public var grace: Duration = .seconds(30)
    /// For tests and the demo: the server `timeout` actually sent (UCWA's minimum is 180 s).
    public var timeoutOverride: Int?
    /// Limits of an event-channel body (`MaxBatchBytes=`, 1 GiB by default).
    public var channelLimits: JSONLimits = .eventChannel

    public init(configuration: Configuration, password: String, environment: [String: String], logger: Logger, stop: StopSignal) {
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
    public func run(sink choice: SinkChoice) async -> Int32 {
        switch choice {
        case .stdout(let descriptor):
            return await run(sink: StdoutSink(descriptor: descriptor))
        case .journald:
            do {
                return await run(sink: try JournalSink())
            } catch {
                logger.critical("\(error)")
                return ExitCode.temporaryFailure
            }
        }
    }

    func run<Sink: RecordSink>(sink: Sink) async -> Int32 {
        let notifier = Notifier(environment: environment)
        let store = CheckpointStore(directory: configuration.stateDirectory)
        let client = HTTPClient(configuration: .init(
            caFile: configuration.caFile, allowInsecureHTTP: configuration.allowInsecureHTTP,
            userAgent: configuration.userAgent))
        defer { client.shutdown() }
        do {
            var checkpoint: Checkpoint
            if let saved = try store.load() {
                checkpoint = saved
                logger.info("resuming from the checkpoint", metadata: ["events_url": "\(saved.eventsURL ?? "-")", "sequence": "\(saved.sequence)"])
            } else {
                checkpoint = Checkpoint(endpointID: Checkpoint.newEndpointID())
                try store.save(checkpoint)
                logger.info("no checkpoint: starting a new one", metadata: ["state_directory": "\(configuration.stateDirectory)"])
            }
            let session = Session(
                client: client,
                settings: SessionMachine.Settings(
                    discoverURL: configuration.discoverURL ?? "", username: configuration.username ?? "",
                    userAgent: configuration.userAgent, endpointID: checkpoint.endpointID, culture: configuration.culture),
                credentials: Credentials(username: configuration.username ?? "", password: password),
                policy: policy, logger: logger)
            notifier.status("signing in")
            let endpoints = try await session.bootstrap()
            var resumeURL: String?
            var pendingReset: ChannelResetReason?
            if let saved = checkpoint.applicationURL {
                if saved == endpoints.applicationURL {
                    resumeURL = checkpoint.eventsURL
                } else {
                    // The application of the last run is gone: its unacknowledged events too.
                    pendingReset = .applicationNotFound
                    checkpoint.openInvitations = [:]
                    checkpoint.eventsURL = nil
                }
            }
            let handler = DaemonHandler(
                resolver: Resolver(
                    session: session, concurrency: configuration.resolveConcurrency, resolvePeople: configuration.resolvePeople,
                    logger: logger),
                builder: RecordBuilder(
                    account: configuration.effectiveAccount, filter: configuration.events, sequence: checkpoint.firstFreeSequence,
                    tracker: InvitationTracker(open: checkpoint.openInvitations)),
                sink: sink, checkpoint: checkpoint, store: store, notifier: notifier, logger: logger, stats: stats,
                live: live, pendingReset: pendingReset)
            var channel = EventChannel(
                session: session, handler: handler, timeoutSeconds: timeoutOverride ?? configuration.timeoutSeconds,
                policy: policy, limits: channelLimits, logger: logger)
            channel.stop = stop
            channel.quarantineDirectory = configuration.stateDirectory + "/quarantine"
            channel.grace = grace
            channel.heartbeatInterval = notifier.watchdogInterval
            // The channel, the resolver's GETs and the session run on the HTTP client's thread:
            // a finished transfer resumes its task there, with no hand-over to a pool thread
            // (README, "One thread does the work").
            try await withTaskExecutorPreference(client.taskExecutor) {
                try await channel.run(resumeURL: resumeURL)
            }
            notifier.stopping()
            var final = channel.handler.checkpointAtStop()
            if configuration.deleteOnStop {
                try? await session.deleteApplication()
                final.applicationURL = nil
                final.eventsURL = nil
            }
            try? store.save(final)
            logger.info("stopped", metadata: ["records": "\(stats.records)"])
            return ExitCode.clean
        } catch let error as SinkError where error == .brokenPipe {
            logger.notice("stdout closed by its reader: stopping")
            return ExitCode.clean
        } catch let failure as SessionFailure {
            logger.critical("\(failure)")
            return failure.exitCode
        } catch let error as HTTPClientError {
            logger.critical("\(error)")
            return error.isRetryable ? ExitCode.temporaryFailure : ExitCode.configuration
        } catch let error as ChannelGaveUp {
            logger.critical("\(error)")
            return ExitCode.temporaryFailure
        } catch let error as CheckpointError {
            logger.critical("checkpoint: \(error)")
            return ExitCode.temporaryFailure
        } catch {
            logger.critical("\(error)")
            return ExitCode.temporaryFailure
        }
    }
}
