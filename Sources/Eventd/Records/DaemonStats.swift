import Locking

/// Counters for `STATUS=` and the demo's summary.
package final class DaemonStats: Sendable {
    private let state = Locked<(records: Int, batches: Int, lastBatch: DaemonStatus.Moment?)>((0, 0, nil))

    package init() {}

    package var records: Int { state.withLock { $0.records } }
    var batches: Int { state.withLock { $0.batches } }
    /// When the last batch was written and checkpointed.
    var lastBatch: DaemonStatus.Moment? { state.withLock { $0.lastBatch } }

    func recordWritten() { state.withLock { $0.records += 1 } }
    func batchDone() {
        let now = DaemonStatus.Moment.now()
        state.withLock {
            $0.batches += 1
            $0.lastBatch = now
        }
    }
}
