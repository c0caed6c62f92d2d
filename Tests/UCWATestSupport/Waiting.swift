import Locking

/// A wait that ran out of time; its description names what was waited for.
package struct TimedOut: Error, CustomStringConvertible {
    package let what: String
    package let timeout: Duration

    package var description: String { "timed out after \(timeout) waiting for \(what)" }
}

/// Waits until `condition` holds, polling every `poll`; throws `TimedOut` naming `what` (read
/// only then, so it can describe the state at the time) after `timeout`.
package func waitUntil(
    _ what: @autoclosure () -> String,
    timeout: Duration = .seconds(20),
    poll: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut(what: what(), timeout: timeout) }
        try await Task.sleep(for: poll)
    }
}

/// Waits until `condition` holds or `timeout` passed, polling every `poll`; whether it held.
/// For a test that checks the outcome itself afterwards.
@discardableResult
package func waitAtMost(
    _ timeout: Duration,
    poll: Duration = .milliseconds(20),
    until condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { return false }
        try await Task.sleep(for: poll)
    }
    return true
}

/// The value of `task`, or nil if it has not finished within `timeout` (it keeps running).
/// Returns at the timeout even when the task never ends: awaiting `task.value` does not stop
/// on cancellation, so a task group waiting for it would hang the test instead of failing it.
package func value<Success: Sendable>(of task: Task<Success, Never>, within timeout: Duration) async -> Success? {
    let answered = Locked(false)
    return await withCheckedContinuation { (continuation: CheckedContinuation<Success?, Never>) in
        @Sendable func answer(_ value: Success?) {
            let first = answered.withLock { done in
                defer { done = true }
                return !done
            }
            if first { continuation.resume(returning: value) }
        }
        Task { answer(await task.value) }
        Task {
            try? await Task.sleep(for: timeout)
            answer(nil)
        }
    }
}
