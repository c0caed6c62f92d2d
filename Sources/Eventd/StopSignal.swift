import Locking

/// An orderly stop (SIGTERM): a batch that is being handed over finishes and is checkpointed;
/// a parked poll or a backoff wait is abandoned at once.
public final class StopSignal: Sendable {
    private struct State {
        var requested = false
        var busy = false
        var cancel: (@Sendable () -> Void)?
    }

    private let state = Locked(State())

    public init() {}

    public var isRequested: Bool { state.withLock { $0.requested } }

    /// Asks the channel to stop; cancels what it is waiting for unless a batch is in progress.
    public func request() {
        let cancel = state.withLock { state -> (@Sendable () -> Void)? in
            state.requested = true
            return state.busy ? nil : state.cancel
        }
        cancel?()
    }

    /// The channel waits (parked poll, backoff): `cancel` ends the wait. Returns false, and
    /// does not register, when a stop was already asked for.
    func waiting(cancel: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            guard !state.requested else { return false }
            state.busy = false
            state.cancel = cancel
            return true
        }
    }

    /// A batch is being handed over: a stop waits for its end.
    func busy() {
        state.withLock { $0.busy = true }
    }

    /// The wait or batch is over.
    func done() {
        state.withLock { state in
            state.busy = false
            state.cancel = nil
        }
    }
}
