import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Child processes: started with posix_spawn(3), signalled, reaped.
package enum ChildProcessCalls {
    /// What one of a child's standard descriptors (0, 1, 2) is.
    package enum Stream {
        /// This process's own.
        case inherited
        /// An open descriptor of this process.
        case descriptor(SystemFile)
        /// The file at a path, opened for reading.
        case reading(String)
        /// The file at a path, created or emptied (mode 0600), opened for writing.
        case writing(String)
    }

    /// Starts `path` with `arguments` (after argv[0], which is `path`) in `environment` (nil:
    /// this process's). No signal is blocked in the child, and `defaultSignals` are back to
    /// their default there: an ignored signal stays ignored across exec (this process ignores
    /// SIGPIPE). Its process id.
    package static func spawn(
        _ path: String,
        arguments: [String],
        environment: [String: String]? = nil,
        standardInput: Stream = .inherited,
        standardOutput: Stream = .inherited,
        standardError: Stream = .inherited,
        defaultSignals: [Int32] = [SIGPIPE]
    ) throws(SystemCallError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (number, stream) in [standardInput, standardOutput, standardError].enumerated() {
            let target = Int32(number)
            switch stream {
            case .inherited: break
            case .descriptor(let file): posix_spawn_file_actions_adddup2(&actions, file.descriptor.rawValue, target)
            case .reading(let file): posix_spawn_file_actions_addopen(&actions, target, file, O_RDONLY, 0)
            case .writing(let file):
                posix_spawn_file_actions_addopen(&actions, target, file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var signals = sigset_t()
        sigemptyset(&signals)
        posix_spawnattr_setsigmask(&attributes, &signals)
        for number in defaultSignals { sigaddset(&signals, number) }
        posix_spawnattr_setsigdefault(&attributes, &signals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for pointer in envp ?? [] { free(pointer) } }
        var pid: pid_t = 0
        // posix_spawn returns its error number instead of setting errno.
        let result: Int32
        if var envp {
            result = posix_spawn(&pid, path, &actions, &attributes, argv, &envp)
        } else {
            result = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        }
        guard result == 0 else {
            throw SystemCallError(call: "posix_spawn", subject: path, errno: .init(rawValue: result))
        }
        return pid
    }

    /// Sends `signal` to `pid` (kill(2)); a process already gone is not an error.
    package static func signal(_ pid: pid_t, _ signal: Int32) {
        _ = try? SystemCall.run("kill", "process \(pid)") { kill(pid, signal) }
    }

    /// The exit status of `pid` once it has exited (128 + the signal number when a signal
    /// ended it), reaping it; nil while it runs (waitpid(2), WNOHANG unless `waiting`).
    package static func exitStatus(of pid: pid_t, waiting: Bool = false) -> Int32? {
        var status: Int32 = 0
        let reaped = try? SystemCall.run("waitpid", "process \(pid)") { waitpid(pid, &status, waiting ? 0 : WNOHANG) }
        guard reaped == pid else { return nil }
        if status & 0x7F == 0 { return (status >> 8) & 0xFF }
        return 128 + (status & 0x7F)
    }

    /// Waits up to `grace` for `pid` to exit (waitpid(2) with WNOHANG every 10 ms), then kills
    /// it with SIGKILL; reaps it either way.
    package static func reap(_ pid: pid_t, killingAfter grace: Duration) {
        let clock = ContinuousClock()
        let deadline = clock.now + grace
        while clock.now < deadline {
            if exitStatus(of: pid) != nil { return }
            var pause = timespec(tv_sec: 0, tv_nsec: 10_000_000)
            nanosleep(&pause, nil)
        }
        signal(pid, SIGKILL)
        _ = exitStatus(of: pid, waiting: true)
    }
}
