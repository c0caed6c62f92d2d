#if canImport(Glibc)
import Glibc
#endif

/// A body run on a thread of its own (not the tasks' pool), joined by `join()`: the pipe tests
/// block on both ends at once, which on the pool could wait for a thread that never comes.
package final class TestThread: @unchecked Sendable {
    private var thread = pthread_t()
    private let body: @Sendable () -> Void

    package init(_ body: @escaping @Sendable () -> Void) {
        self.body = body
        let context = Unmanaged.passRetained(self).toOpaque()
        pthread_create(
            &thread,
            nil,
            { context in
                Unmanaged<TestThread>.fromOpaque(context!).takeRetainedValue().body()
                return nil
            },
            context
        )
    }

    package func join() {
        pthread_join(thread, nil)
    }
}

/// CPU time the calling thread has used.
package func threadCPUTime() -> Duration {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return .seconds(now.tv_sec) + .nanoseconds(now.tv_nsec)
}
