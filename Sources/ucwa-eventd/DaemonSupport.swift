import ArgumentParser
import Eventd
import Logging
import SystemCalls

#if canImport(Glibc)
import Glibc
#endif

/// The process environment as a dictionary.
func processEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    var pointer = environ
    while let entry = pointer.pointee {
        let text = String(cString: entry)
        if let equals = text.firstIndex(of: "=") {
            result[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        pointer += 1
    }
    return result
}

/// Loads the configuration or exits 78 with the error on stderr.
func loadConfiguration(
    path: String?,
    environment: [String: String],
    flags: [(section: String, name: String, value: String)]
) throws -> Configuration {
    do {
        return try ConfigurationLoader.load(path: path, environment: environment, flags: flags)
    } catch {
        Diagnostics.print("configuration error: \(error)")
        throw ExitCode(ExitStatus.configuration)
    }
}

/// The daemon's logger: journald when stderr is the journal, else stderr; never stdout.
func makeLogger(level: SharedLogLevel, environment: [String: String]) -> Logger {
    let destination: DiagnosticsLogHandler.Destination =
        DiagnosticsLogHandler.stderrIsJournal(environment: environment) ? .journal : .stderr
    return Logger(label: "ucwa-eventd") { _ in DiagnosticsLogHandler(level: level, destination: destination) }
}

/// Signal handling with a self-pipe (`SignalPipe`): a C handler writes the signal number into a
/// pipe, a thread of ours reads it and calls the actions. Installed before anything else, so that an
/// early SIGHUP from `systemctl reload` does not kill the process. (Dispatch signal sources
/// use signalfd on Linux, which needs the signals blocked in every thread, including Swift's
/// own pool threads that already run: not reliable here.)
final class Signals: @unchecked Sendable {
    private static let handled = [SIGTERM, SIGINT, SIGHUP]
    private let stopAction: @Sendable () -> Void
    private let reloadAction: @Sendable () -> Void
    private var reader: SystemFile?

    init(stop: @escaping @Sendable () -> Void, reload: @escaping @Sendable () -> Void) {
        stopAction = stop
        reloadAction = reload
        // Without a pipe the signals keep their default dispositions (as before any handler).
        guard let reader = try? SignalPipe.install(Self.handled) else { return }
        self.reader = reader
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        pthread_create(
            &thread,
            nil,
            { context in
                let signals = Unmanaged<Signals>.fromOpaque(context!).takeRetainedValue()
                signals.readLoop()
                return nil
            },
            context
        )
        pthread_detach(thread)
    }

    private func readLoop() {
        guard let reader else { return }
        var byte: UInt8 = 0
        while true {
            let count = (try? withUnsafeMutableBytes(of: &byte) { try reader.read(into: $0) }) ?? 0
            guard count == 1 else { return }
            switch Int32(byte) {
            case SIGHUP: reloadAction()
            default: stopAction()
            }
        }
    }

    /// Back to the default dispositions (the process is about to end).
    func cancel() {
        SignalPipe.restoreDefaults(Self.handled)
    }
}

/// libdispatch's worker threads (the pool that runs Swift's global executor) start with
/// `setpriority(PRIO_PROCESS, 0, nice)`, one call per new thread, unconditionally: the nice
/// value imitates the queue's QoS class (10, 2, 0, -2 or -4; `_dispatch_worker_thread` in
/// libdispatch's queue.c). The units' seccomp filter denies `setpriority` (it is in
/// `@resources`): with `SystemCallErrorNumber=EPERM` libdispatch logs "Failed to set thread
/// priority for worker thread: pqc=… errno=1" at every start and under load, and without it
/// the process dies by SIGSYS. Allowing the call would raise the units' exposure score
/// (`SystemCallFilter=~@resources` fails; Benchmarks/README.md), and a dynamic user may not
/// lower a nice value anyway (EACCES for -2 and -4).
///
/// The daemon wants every thread at the unit's own priority, so it answers the call for
/// libdispatch: this definition in the executable is exported (`--export-dynamic-symbol`, set
/// in Package.swift: the linker does not export it by itself, because libdispatch's reference
/// is versioned) and the dynamic loader binds libdispatch's call to it before the C library's;
/// with a static Swift runtime the static libdispatch binds to it at link time. A request for the calling
/// thread (`PRIO_PROCESS`, 0) succeeds without a system call; any other request goes to the C
/// library's function, so a start makes no `setpriority` system call (`strace -f -e setpriority`;
/// Benchmarks/README.md).
@_cdecl("setpriority")
package func ucwaEventdSetpriority(_ which: UInt32, _ who: UInt32, _ priority: Int32) -> Int32 {
    if which == UInt32(PRIO_PROCESS.rawValue), who == 0 { return 0 }
    typealias Function = @convention(c) (UInt32, UInt32, Int32) -> Int32
    // RTLD_NEXT: the next definition after this executable's, the C library's.
    guard let next = dlsym(UnsafeMutableRawPointer(bitPattern: -1), "setpriority") else {
        errno = ENOSYS
        return -1
    }
    return unsafeBitCast(next, to: Function.self)(which, who, priority)
}
