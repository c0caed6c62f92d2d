import Locking
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct LockedTests {
    /// Eight threads each add 1 a hundred thousand times through `withLock`: without mutual
    /// exclusion the read-modify-write steps interleave and increments are lost.
    @Test func incrementsFromManyThreadsAreNotLost() {
        final class Box: @unchecked Sendable { let counter = Locked(0) }
        let box = Box()
        let perThread = 100_000
        var threads: [pthread_t] = []
        for _ in 0..<8 {
            var thread = pthread_t()
            let context = Unmanaged.passRetained(box).toOpaque()
            let result = pthread_create(&thread, nil, { context in
                let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
                for _ in 0..<100_000 { box.counter.withLock { $0 += 1 } }
                return nil
            }, context)
            #expect(result == 0)
            threads.append(thread)
        }
        for thread in threads { pthread_join(thread, nil) }
        #expect(box.counter.withLock { $0 } == 8 * perThread)
    }

    @Test func withLockReturnsTheBodysResultAndRethrows() {
        struct Refused: Error {}
        let locked = Locked([1, 2])
        #expect(locked.withLock { $0.append(3); return $0.count } == 3)
        #expect(throws: Refused.self) { try locked.withLock { _ in throw Refused() } }
        #expect(locked.withLock { $0 } == [1, 2, 3])
    }
}
