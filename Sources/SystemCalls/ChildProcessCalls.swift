import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Child processes: started with posix_spawn(3), signalled, reaped.
package enum ChildProcessCalls {
    /// Starts `path` with `arguments` and this process's environment; `standardInput` and
    /// `standardOutput` become its descriptors 0 and 1 (stderr is shared). No signal is blocked
    /// in the child and SIGPIPE is back to its default there: an ignored signal stays ignored
    /// across exec, and this process ignores it. Its process id.
    package static func spawn(
        _ path: String,
        arguments: [String],
        standardInput: SystemFile,
        standardOutput: SystemFile
    ) throws(SystemCallError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, standardInput.descriptor.rawValue, 0)
        posix_spawn_file_actions_adddup2(&actions, standardOutput.descriptor.rawValue, 1)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var signals = sigset_t()
        sigemptyset(&signals)
        posix_spawnattr_setsigmask(&attributes, &signals)
        sigaddset(&signals, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &signals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        // posix_spawn returns its error number instead of setting errno.
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw SystemCallError(call: "posix_spawn", subject: path, errno: .init(rawValue: result))
        }
        return pid
    }

    /// Waits up to `grace` for `pid` to exit (waitpid(2) with WNOHANG every 10 ms), then kills
    /// it with SIGKILL; reaps it either way.
    package static func reap(_ pid: pid_t, killingAfter grace: Duration) {
        var status: Int32 = 0
        let clock = ContinuousClock()
        let deadline = clock.now + grace
        while clock.now < deadline {
            let reaped = try? SystemCall.run("waitpid", "process \(pid)") { waitpid(pid, &status, WNOHANG) }
            if reaped == pid { return }
            var pause = timespec(tv_sec: 0, tv_nsec: 10_000_000)
            nanosleep(&pause, nil)
        }
        _ = try? SystemCall.run("kill", "process \(pid)") { kill(pid, SIGKILL) }
        _ = try? SystemCall.run("waitpid", "process \(pid)") { waitpid(pid, &status, 0) }
    }
}
