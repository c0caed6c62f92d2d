import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// How every C call of this layer is made, after swift-nio's `syscall()` (NIOPosix/System.swift):
/// the error number is read straight after the call that set it, before anything else can
/// change it, `EINTR` is retried, and a failure becomes a `SystemCallError` naming the call
/// and its subject. Only this layer calls C functions that report through `errno`.
enum SystemCall {
    /// Runs `body`, a C call that returns a negative number and sets `errno` when it fails.
    @inline(__always)
    static func run<Result: BinaryInteger>(
        _ call: String,
        _ subject: @autoclosure () -> String,
        retryingInterrupts: Bool = true,
        _ body: () -> Result
    ) throws(SystemCallError) -> Result {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = Errno(rawValue: Glibc.errno)
            if retryingInterrupts && code == .interrupted { continue }
            throw SystemCallError(call: call, subject: subject(), errno: code)
        }
    }

    /// Runs a swift-system call (which retries `EINTR` itself) and names its `Errno`.
    @inline(__always)
    static func system<Result>(
        _ call: String,
        _ subject: @autoclosure () -> String,
        _ body: () throws -> Result
    ) throws(SystemCallError) -> Result {
        do {
            return try body()
        } catch let code as Errno {
            throw SystemCallError(call: call, subject: subject(), errno: code)
        } catch {
            // swift-system throws nothing but Errno.
            throw SystemCallError(call: call, subject: subject(), errno: .ioError)
        }
    }
}
