import UCWA

/// Receives what the event channel delivers, in order. The channel waits for each call, so a
/// handler that returns only when records are durable gets at-least-once delivery.
protocol EventChannelHandler {
    /// The channel starts on an application (the first, a new one after 404/410, or another
    /// one that a rediscovery after 403 found).
    mutating func opened(_ endpoints: ApplicationEndpoints) async throws
    /// Events may have been lost or replayed (`resync`, `resume`, a new application).
    /// `details`: what the channel knows about it — after 404/410 (or a rediscovery that found
    /// another application) the server's error and the application that was lost; after a
    /// resync storm how many consecutive `resync` answers it stands for. Called before `opened`
    /// of a new application.
    mutating func reset(_ reason: ChannelResetReason, details: ChannelResetDetails) async throws
    /// One event, the moment it is decoded; `baseURL` resolves its relative hrefs.
    mutating func event(_ event: UCWAEvent, baseURL: String) async throws
    /// Every event of the batch at `url` has been handed over; `next` is the URL that will
    /// acknowledge it, requested when this returns.
    mutating func batchCompleted(url: String, next: String) async throws
    mutating func notice(_ notice: ChannelNotice) async
    /// A poll is about to go out (the first one means the daemon is ready).
    mutating func willPoll(_ url: String) async
}

/// What the channel knows about a reset besides its reason.
struct ChannelResetDetails: Sendable, Equatable {
    /// The application that was lost (404/410), when a new one replaced it.
    var previousApplication: String?
    /// The new application's href.
    var application: String?
    /// The server's error body of the poll that found the application gone.
    var serverError: UCWAErrorBody?

    /// How many consecutive `resync` answers the reset stands for (more than 1 after a storm).
    var mergedResets: Int

    init(
        previousApplication: String? = nil,
        application: String? = nil,
        serverError: UCWAErrorBody? = nil,
        mergedResets: Int = 1
    ) {
        self.previousApplication = previousApplication
        self.application = application
        self.serverError = serverError
        self.mergedResets = mergedResets
    }
}

extension EventChannelHandler {
    mutating func willPoll(_ url: String) async {}
}
