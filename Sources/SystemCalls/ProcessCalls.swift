import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Calls on this process and its signals.
package enum ProcessCalls {
    /// Ends this process at once with SIGKILL (the crash tests' hooks): nothing runs after it.
    package static func killSelf() -> Never {
        kill(getpid(), SIGKILL)
        // SIGKILL cannot be caught: the kernel ends the process before kill(2) returns.
        fatalError("SIGKILL did not end the process")
    }

    /// SIGPIPE ignored: a write to a pipe whose reader went away fails with `EPIPE`, which the
    /// write-all turns into an error, instead of ending the process.
    static func ignoreBrokenPipe() {
        signal(SIGPIPE, SIG_IGN)
    }
}
