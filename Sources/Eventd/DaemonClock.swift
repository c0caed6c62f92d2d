/// The monotonic clock the daemon measures and waits with where the wait is its own decision:
/// when the token is replaced, and how long it waits before a retry (sign-in, token grant, the
/// event channel's backoff and resync storms, the resolver's GETs). The session holds it and
/// what talks through the session waits with the session's. `continuous` (`ContinuousClock`)
/// in the daemon; a test passes a clock it advances by hand, so a wait of seconds takes none.
/// Waits that another party measures in real time stay on the real clock: libcurl's timeouts,
/// the watchdog's heartbeat (systemd), the stop's grace and `DeleteOnStop=`'s bound.
///
/// Any `Clock` with `Duration` behind one concrete type (the standard library offers only the
/// existential, whose instants cannot be compared), so that `Session` stays non-generic.
package struct DaemonClock: Clock {
    /// A point on the clock: the time since the clock was wrapped.
    package struct Instant: InstantProtocol {
        var offset: Duration

        package func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        package func duration(to other: Instant) -> Duration { other.offset - offset }
        package static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let elapsed: @Sendable () -> Duration
    private let sleeper: @Sendable (_ offset: Duration, _ tolerance: Duration?) async throws -> Void
    package let minimumResolution: Duration

    /// `clock`, with its present instant as this clock's origin.
    init<Wrapped: Clock>(_ clock: Wrapped) where Wrapped.Duration == Duration {
        let origin = clock.now
        elapsed = { origin.duration(to: clock.now) }
        sleeper = { offset, tolerance in
            try await clock.sleep(until: origin.advanced(by: offset), tolerance: tolerance)
        }
        minimumResolution = clock.minimumResolution
    }

    /// The real monotonic clock, suspended time included (the daemon's).
    static var continuous: DaemonClock { DaemonClock(ContinuousClock()) }

    package var now: Instant { Instant(offset: elapsed()) }

    package func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try await sleeper(deadline.offset, tolerance)
    }
}
