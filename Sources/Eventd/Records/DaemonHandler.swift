import Logging
import UCWA

/// The daemon's channel handler: resolves events, turns them into records, writes them to the
/// sink, and checkpoints before the channel may acknowledge a batch. What it saves, `state`
/// decides (the persisted state's one owner); the handler writes records and saves in order.
struct DaemonHandler<Sink: RecordSink>: EventChannelHandler {
    var resolver: Resolver
    var builder: RecordBuilder
    var sink: Sink
    /// The persisted state; the daemon saves `state.closing()` when the channel has stopped.
    private(set) var state: PersistedState
    let store: CheckpointStore
    /// `STATUS=` (and through it the stats and the notifier).
    let status: DaemonStatus
    let logger: Logger
    let live: LiveSettings
    var endpoints: ApplicationEndpoints?
    /// The first poll was sent (logged once).
    var polling = false
    /// The last poll ended in 409 `PGetReplaced`: the retry that follows is shown as such.
    var anotherConsumer = false
    var stats: DaemonStats { status.stats }
    /// Set when the checkpoint's application was gone at start: reported with the first opening.
    var pendingReset: ChannelResetReason?

    init(
        resolver: Resolver,
        builder: RecordBuilder,
        sink: Sink,
        state: PersistedState,
        store: CheckpointStore,
        status: DaemonStatus,
        logger: Logger,
        live: LiveSettings,
        pendingReset: ChannelResetReason?
    ) {
        self.resolver = resolver
        self.builder = builder
        self.sink = sink
        self.state = state
        self.store = store
        self.status = status
        self.logger = logger
        self.live = live
        self.pendingReset = pendingReset
    }

    mutating func opened(_ endpoints: ApplicationEndpoints) async throws {
        self.endpoints = endpoints
        if let reason = pendingReset {
            pendingReset = nil
            try write(
                builder.channelReset(
                    reason,
                    application: endpoints.applicationURL,
                    now: WallClock.microsecondsSince1970(),
                    previousApplication: state.applicationURL,
                    ledger: &state
                )
            )
        }
        try write(
            builder.channelOpened(
                application: endpoints.applicationURL,
                now: WallClock.microsecondsSince1970(),
                ledger: &state
            )
        )
        // The new application's first events URL is saved before the first poll.
        try sink.flush()
        try save(state.opened(endpoints))
    }

    /// After 404/410 (or a rediscovery that found another application) this comes before
    /// `opened` of the new application: the record names the lost application and the server's
    /// error; after a resync storm, how many resets it stands for.
    mutating func reset(_ reason: ChannelResetReason, details: ChannelResetDetails) async throws {
        if reason == .resync { resolver.forgetStates() }
        let error = details.serverError.map {
            UCWAReason(
                code: UCWAText($0.code),
                subcode: $0.subcode.map { UCWAText($0) },
                message: $0.message.map { UCWAText($0) }
            )
        }
        try write(
            builder.channelReset(
                reason,
                application: details.application ?? endpoints?.applicationURL ?? "",
                mergedResets: details.mergedResets,
                now: WallClock.microsecondsSince1970(),
                previousApplication: details.previousApplication,
                serverError: error,
                ledger: &state
            )
        )
        try sink.flush()
    }

    /// Events the filter drops go no further: no GET, no record. Only events whose record
    /// reads the invitation resource may cost a GET.
    mutating func event(_ event: UCWAEvent, baseURL: String) async throws {
        builder.filter = live.events
        guard builder.wants(event) else { return }
        let resolved = await resolver.submit(event, baseURL: baseURL, fetch: builder.needsResource(event))
        // A stop that could not wait for the batch any longer cancelled its GETs: their
        // `failed` results must not become records (the batch comes again after the restart).
        try Task.checkCancellation()
        for resolved in resolved {
            try emit(resolved)
        }
    }

    /// The URL of the poll in progress: the batch's identity in record ids.
    var currentPoll: String?

    mutating func willPoll(_ url: String) async {
        currentPoll = url
        status.set(.polling)
        if !polling {
            polling = true
            logger.info("polling: first events request sent")
        }
    }

    mutating func batchCompleted(url: String, next: String) async throws {
        let rest = await resolver.drain()
        try Task.checkCancellation()
        for resolved in rest {
            try emit(resolved)
        }
        try sink.flush()
        if eventRecordsSinceSave > 0 { CrashHook.afterRecordsBeforeCheckpoint(logger) }
        try save(state.batchCompleted(next: next))
        stats.batchDone()
        status.refresh()
    }

    mutating func notice(_ notice: ChannelNotice) async {
        // The channel logged it already; `STATUS=` says what the channel waits for.
        switch notice {
        case .anotherConsumer:
            anotherConsumer = true
        case .retrying(let url, let reason, let delay):
            let failed = url.isEmpty ? currentPoll ?? "" : url
            status.set(
                anotherConsumer
                    ? .anotherConsumer(url: failed, retryAt: .after(delay))
                    : .channelWaiting(url: failed, reason: Self.withoutURL(reason, failed), retryAt: .after(delay))
            )
            anotherConsumer = false
        case .skippedMalformedBatch, .reauthenticated:
            break
        }
    }

    /// A transport failure's text starts with the URL, which `STATUS=` shows already.
    static func withoutURL(_ reason: String, _ url: String) -> String {
        reason.hasPrefix(url + ": ") ? String(reason.dropFirst(url.count + 2)) : reason
    }

    private mutating func emit(_ resolved: ResolvedEvent) throws {
        guard let endpoints else { return }
        builder.filter = live.events
        if let record = builder.record(
            for: resolved,
            application: endpoints.applicationURL,
            batch: currentPoll ?? "",
            now: WallClock.microsecondsSince1970(),
            ledger: &state
        ) {
            try write(record)
            eventRecordsSinceSave += 1
        }
    }

    /// Event records written since the last checkpoint (for the crash hook).
    var eventRecordsSinceSave = 0

    /// Hands a record to the sink. Its sequence number is on disk as reserved before the
    /// record can reach the sink (`Checkpoint.sequenceReserved`), so no number is used twice
    /// even when a crash loses the checkpoint of the batch in flight.
    private mutating func write(_ record: Record) throws {
        if let reservation = state.reservation(covering: record.sequence) {
            try store.save(reservation)
        }
        try sink.append(record)
        stats.recordWritten()
    }

    /// Saves a checkpoint that commits records: they are in the sink already (flushed).
    private mutating func save(_ checkpoint: Checkpoint) throws {
        try store.save(checkpoint)
        eventRecordsSinceSave = 0
    }
}
