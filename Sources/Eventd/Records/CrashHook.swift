import Logging
import SystemCalls

#if canImport(Glibc)
import Glibc
#endif

/// A hook for the crash test (issue 15, item 11): with `UCWA_EVENTD_TEST_CRASH_AFTER_RECORDS=1`
/// the process kills itself (SIGKILL) once a batch's records are written and flushed and
/// before its checkpoint is saved — the one point where a crash re-delivers a batch whose
/// records the reader has already seen. Never set in production.
enum CrashHook {
    /// Read once.
    static let afterRecords: Bool =
        getenv("UCWA_EVENTD_TEST_CRASH_AFTER_RECORDS").map { String(cString: $0) == "1" } ?? false

    static func afterRecordsBeforeCheckpoint(_ logger: Logger) {
        guard afterRecords else { return }
        logger.critical("test crash hook: killed after writing a batch's records, before its checkpoint")
        ProcessCalls.killSelf()
    }
}
