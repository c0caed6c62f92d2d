/// The channel's own heartbeat: a tick every `interval` (nil: never) into the stream the channel
/// reads, so that `handler.heartbeat()` runs on the channel's loop in order with the events
/// while a poll is parked, and a backoff sleeps in slices with a heartbeat after each.
struct HeartbeatTicker: Sendable {
    let interval: Duration?

    var isOn: Bool { interval != nil }

    /// Ticks into `continuation` until the returned task is cancelled (nil: no heartbeat). On
    /// the HTTP client's thread too (`executor`): a tick then wakes one thread, not a pool thread
    /// and then the channel's.
    func start(
        into continuation: AsyncStream<ChannelItem>.Continuation,
        on executor: any TaskExecutor
    ) -> Task<Void, any Error>? {
        interval.map { interval in
            Task(executorPreference: executor) {
                while !Task.isCancelled {
                    try await Task.sleep(for: interval)
                    continuation.yield(.tick)
                }
            }
        }
    }

    /// How long a backoff with `remaining` left sleeps before its next heartbeat.
    func slice(of remaining: Duration) -> Duration {
        min(remaining, interval ?? remaining)
    }
}
