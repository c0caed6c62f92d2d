import Locking
import UCWA

/// The settings SIGHUP may change while the daemon runs: which events become records (the log
/// level lives in `SharedLogLevel`). Read per event.
package final class LiveSettings: Sendable {
    private let filter: Locked<EventFilter>

    package init(events: EventFilter) {
        filter = Locked(events)
    }

    package var events: EventFilter {
        get { filter.withLock { $0 } }
        set { filter.withLock { $0 = newValue } }
    }
}
