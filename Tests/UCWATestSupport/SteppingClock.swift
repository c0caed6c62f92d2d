import Locking

/// A clock that moves only when the test moves it (`advance(by:)`). A test of a wait the code
/// decides itself (a token's refresh time, a backoff) advances the clock instead of sleeping:
/// it runs in milliseconds, sees each deadline pass exactly when it says, and can look at who
/// sleeps and until when (`sleepers`, `nextDeadline`) in between.
package final class SteppingClock: Clock, Sendable {
    package struct Instant: InstantProtocol {
        /// Time since the clock was made.
        package var elapsed: Duration

        package func advanced(by duration: Duration) -> Instant { Instant(elapsed: elapsed + duration) }
        package func duration(to other: Instant) -> Duration { other.elapsed - elapsed }
        package static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.elapsed < rhs.elapsed }
    }

    private struct Sleeper: Sendable {
        var deadline: Duration
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State: Sendable {
        var now = Duration.zero
        var sleepers: [UInt64: Sleeper] = [:]
        /// Sleeps cancelled before they were registered (a cancellation after the wake leaves
        /// its number here too, never looked up again).
        var cancelled: Set<UInt64> = []
        var lastID: UInt64 = 0
    }

    private let state = Locked(State())

    package init() {}

    package var now: Instant { Instant(elapsed: state.withLock { $0.now }) }

    package var minimumResolution: Duration { .zero }

    /// How many tasks sleep on the clock.
    package var sleepers: Int { state.withLock { $0.sleepers.count } }

    /// How long until the first sleeper wakes; nil when nobody sleeps.
    package var nextDeadline: Duration? {
        state.withLock { state in state.sleepers.values.map(\.deadline).min().map { $0 - state.now } }
    }

    package func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        let id = state.withLock { state in
            state.lastID += 1
            return state.lastID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let now: Result<Void, any Error>? = state.withLock { state in
                    if state.cancelled.remove(id) != nil { return .failure(CancellationError()) }
                    if deadline.elapsed <= state.now { return .success(()) }
                    state.sleepers[id] = Sleeper(deadline: deadline.elapsed, continuation: continuation)
                    return nil
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            let sleeper = state.withLock { state in
                guard let sleeper = state.sleepers.removeValue(forKey: id) else {
                    state.cancelled.insert(id)
                    return Sleeper?.none
                }
                return sleeper
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward; every sleeper whose deadline has come wakes, earliest first.
    package func advance(by duration: Duration) {
        let due = state.withLock { state in
            state.now += duration
            let due = state.sleepers.filter { $0.value.deadline <= state.now }.sorted {
                $0.value.deadline < $1.value.deadline
            }
            for (id, _) in due { state.sleepers[id] = nil }
            return due.map(\.value)
        }
        for sleeper in due { sleeper.continuation.resume() }
    }
}
