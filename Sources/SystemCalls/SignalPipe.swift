import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The write end of the signal pipe, for the C signal handler. Set before any handler is
/// installed and never changed after, so the handler only reads it.
nonisolated(unsafe) private var signalPipeWriter: Int32 = -1

/// The C signal handler. It runs on whatever thread the signal interrupted, between any two
/// instructions, so it may only call async-signal-safe functions: one write(2) of the signal
/// number into the pipe, nothing else (no allocation, no lock, no Swift runtime call). The
/// interrupted code's `errno` is put back, since write(2) may change it. A full pipe drops
/// the byte; the reader has enough of them to act on already.
private func forwardSignal(_ number: Int32) {
    let saved = errno
    var byte = UInt8(truncatingIfNeeded: number)
    _ = write(signalPipeWriter, &byte, 1)
    errno = saved
}

/// Signals delivered as bytes on a pipe (the self-pipe trick): a thread reads the pipe and
/// acts on each signal outside the signal handler, where anything may be called.
package enum SignalPipe {
    /// Creates the pipe, ignores SIGPIPE and installs the handler for `signals`; the read end,
    /// which yields one byte (the signal number) per signal. Called once per process.
    package static func install(_ signals: [Int32]) throws(SystemCallError) -> SystemFile {
        let (readEnd, writeEnd) = try SystemFile.pipe(name: "signal pipe")
        signalPipeWriter = writeEnd.descriptor.rawValue
        ProcessCalls.ignoreBrokenPipe()
        for number in signals {
            signal(number, forwardSignal)
        }
        return readEnd
    }

    /// Back to the default dispositions for `signals` (the process is about to end).
    package static func restoreDefaults(_ signals: [Int32]) {
        for number in signals {
            signal(number, SIG_DFL)
        }
    }
}
