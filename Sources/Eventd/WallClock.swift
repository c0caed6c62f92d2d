#if canImport(Glibc)
import Glibc
#endif

/// The wall clock, for the few places that need calendar time (HTTP dates, record timestamps).
package enum WallClock {
    package static func microsecondsSince1970() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    }

    static func secondsSince1970() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec)
    }
}
