#if canImport(Glibc)
import Glibc
#endif

/// A value behind a POSIX mutex, for state that several threads share (the HTTP client's
/// inbox, the stop signal, the live settings, the daemon's counters).
///
/// Why not `Synchronization.Mutex`: on Linux it parks on a raw futex inside the standard
/// library, which ThreadSanitizer does not see, so `make sanitize` reported accesses made under
/// that lock as races now and then. ThreadSanitizer intercepts `pthread_mutex_lock`, so with
/// this type every report it makes is a real one. The lock is not recursive; the closure must
/// not call back into the same `Locked`.
///
/// Sendable only when `Value` is (as NIOLockedValueBox and service-lifecycle's LockedValueBox
/// are): the lock orders accesses, it does not make a non-Sendable value safe to hand to
/// another thread, since `withLock` can return parts of it.
package final class Locked<Value> {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    package init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let result = pthread_mutex_init(mutex, nil)
        precondition(result == 0, "pthread_mutex_init failed: it returned \(result)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with the value while holding the lock.
    package func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

extension Locked: @unchecked Sendable where Value: Sendable {}
