import Locking

/// An orderly stop (SIGTERM) that ends the daemon within a second from any state.
///
/// The daemon's work (sign-in, token grants, backoff waits, the event channel, the resolver's
/// GETs) runs in one task; a stop cancels that task, and every wait in it ends at once: `Task.sleep`
/// throws, `CurlClient` requests end with `CancellationError` (their transfers are removed from
/// libcurl), a parked poll is dropped. The one exception is a batch being handed over (its events
/// resolved, written, then the checkpoint saved): the stop waits for its end, so that a stop
/// acknowledges nothing twice, but at most `grace`; a batch still unfinished then (GETs that hang,
/// a huge body) is abandoned uncheckpointed and is delivered again after the restart, with the same
/// `record_id`s, exactly as after a crash.
///
/// The phases form a small state machine; each call returns what its caller must do, and the
/// cancellation runs outside the lock.
///
/// Why not swift-service-lifecycle 2.13 (issue 15, item 10): its `ServiceGroup` would give the
/// same shape (graceful shutdown on SIGTERM, then cancellation after
/// `maximumGracefulShutdownDuration`), but the "finish this batch, else give up" rule would still
/// be ours, written against its graceful-shutdown handler; its signals come from Dispatch signal
/// sources (on Linux they need the signal blocked in every thread, Swift's pool threads included,
/// which the self-pipe in `Signals` avoids) and it knows nothing of SIGHUP's reload, which must
/// be handled from the first instruction on; and it brings two packages (it and
/// swift-async-algorithms) to replace this one type of about a hundred lines.
package final class StopSignal: Sendable {
    private enum Phase {
        /// Running; `generation` counts hand-overs, so that a late timer cannot cut the next one.
        case running(handingOver: Bool, generation: UInt64)
        /// A stop was asked for during a hand-over; the work is cancelled at its end or at the deadline.
        case stopAfterHandOver(generation: UInt64)
        /// The work was cancelled (or a stop came before any work was attached).
        case stopped
    }

    private struct State {
        var phase = Phase.running(handingOver: false, generation: 0)
        var cancelWork: (@Sendable () -> Void)?
    }

    private let state = Locked(State())
    /// How long a batch being handed over may take to finish after a stop.
    let grace: Duration

    package init(grace: Duration = .milliseconds(500)) {
        self.grace = grace
    }

    package var isRequested: Bool {
        state.withLock { state in
            if case .running = state.phase { return false }
            return true
        }
    }

    /// Asks the daemon to stop: cancels its work now, or when the batch in hand-over ends (at
    /// most `grace` from now).
    package func request() {
        enum Then {
            case nothing
            case cancel((@Sendable () -> Void)?)
            case deadline(UInt64)
        }
        let then: Then = state.withLock { state in
            switch state.phase {
            case .running(let handingOver, let generation):
                if handingOver {
                    state.phase = .stopAfterHandOver(generation: generation)
                    return .deadline(generation)
                }
                state.phase = .stopped
                return .cancel(state.cancelWork)
            case .stopAfterHandOver, .stopped:
                return .nothing
            }
        }
        switch then {
        case .nothing: break
        case .cancel(let cancel): cancel?()
        case .deadline(let generation):
            let grace = self.grace
            Task.detached { [self] in
                try? await Task.sleep(for: grace)
                self.deadlinePassed(generation: generation)
            }
        }
    }

    private func deadlinePassed(generation: UInt64) {
        let cancel: (@Sendable () -> Void)? = state.withLock { state in
            guard case .stopAfterHandOver(let current) = state.phase, current == generation else { return nil }
            state.phase = .stopped
            return state.cancelWork
        }
        cancel?()
    }

    /// The daemon's work task: `cancel` ends it. Returns false, and keeps nothing, when a stop
    /// was asked for already (the caller cancels the work itself).
    func attach(cancel: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            guard case .running = state.phase else { return false }
            state.cancelWork = cancel
            return true
        }
    }

    /// The work is over: nothing to cancel any more.
    func detach() {
        state.withLock { $0.cancelWork = nil }
    }

    /// A batch's hand-over begins (its first event): a stop now waits for its end.
    func beginHandOver() {
        state.withLock { state in
            if case .running(false, let generation) = state.phase {
                state.phase = .running(handingOver: true, generation: generation &+ 1)
            }
        }
    }

    /// The hand-over ended (records written and the checkpoint saved, or given up): a stop that
    /// waited for it cancels the work now.
    func endHandOver() {
        let cancel: (@Sendable () -> Void)? = state.withLock { state in
            switch state.phase {
            case .running(true, let generation):
                state.phase = .running(handingOver: false, generation: generation)
                return nil
            case .stopAfterHandOver:
                state.phase = .stopped
                return state.cancelWork
            case .running(false, _), .stopped:
                return nil
            }
        }
        cancel?()
    }
}
