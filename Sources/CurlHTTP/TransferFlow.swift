import Locking
import Synchronization

/// Back-pressure for a streamed body: the consumer counts what it hands on (`produced`, on the
/// transfer thread) and the far side counts what it has dealt with (`consumed`, from any task).
/// When more than `highWater` items are outstanding, the client pauses receiving (the socket
/// buffer fills and TCP slows the server down); at `lowWater` it continues. Memory stays
/// bounded however fast the server sends and however slow the sink is.
package final class TransferFlow: Sendable {
    let highWater: Int
    let lowWater: Int
    private let outstanding = Atomic<Int>(0)
    private let paused = Atomic<Bool>(false)
    /// Set by the client while the transfer runs: asks the transfer thread to continue.
    private let resumeHook = Locked<(@Sendable () -> Void)?>(nil)

    package init(highWater: Int = 1024, lowWater: Int = 256) {
        self.highWater = max(1, highWater)
        self.lowWater = min(max(0, lowWater), self.highWater - 1)
    }

    /// Items handed on and not yet consumed.
    package var pending: Int { outstanding.load(ordering: .acquiring) }

    /// Whether receiving is paused now.
    var isPaused: Bool { paused.load(ordering: .acquiring) }

    /// The consumer handed `count` items on (transfer thread).
    package func produced(_ count: Int = 1) {
        outstanding.add(count, ordering: .acquiringAndReleasing)
    }

    /// The far side dealt with `count` items.
    package func consumed(_ count: Int = 1) {
        let now = outstanding.subtract(count, ordering: .acquiringAndReleasing).newValue
        if now <= lowWater,
            paused.compareExchange(expected: true, desired: false, ordering: .acquiringAndReleasing).exchanged
        {
            resumeHook.withLock { $0 }?()
        }
    }

    /// Transfer thread, after each chunk: whether to pause now. Pauses only if the far side
    /// has not caught up in the meantime (so a resume can never be missed).
    func shouldPause() -> Bool {
        guard outstanding.load(ordering: .acquiring) > highWater else { return false }
        paused.store(true, ordering: .releasing)
        if outstanding.load(ordering: .acquiring) <= lowWater,
            paused.compareExchange(expected: true, desired: false, ordering: .acquiringAndReleasing).exchanged
        {
            return false
        }
        return true
    }

    func attach(_ hook: @escaping @Sendable () -> Void) {
        resumeHook.withLock { $0 = hook }
    }

    func detach() {
        resumeHook.withLock { $0 = nil }
        paused.store(false, ordering: .releasing)
    }
}
