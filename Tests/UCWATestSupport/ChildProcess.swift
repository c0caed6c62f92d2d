import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child process for tests that run from async tasks: posix_spawn with an empty signal mask,
/// stdout and stderr into files, reaped with waitpid (Foundation's Process can spin forever in
/// waitUntilExit when called from a test task).
package final class ChildProcess: @unchecked Sendable {
    package let pid: pid_t
    package let stdoutPath: String
    package let stderrPath: String

    package init(_ arguments: [String], environment: [String: String] = [:], directory: String) throws {
        stdoutPath = directory + "/stdout-\(UUID().uuidString)"
        stderrPath = directory + "/stderr-\(UUID().uuidString)"
        var pid: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EINVAL) }
        self.pid = pid
    }

    package func signal(_ number: Int32) {
        kill(pid, number)
    }

    private let lock = NSLock()
    private var reaped = false

    /// SIGKILL and reap, unless `wait` reaped it already: for a test that failed before its
    /// stop (a `defer`), so that no daemon outlives its test.
    package func killIfRunning() {
        guard !lock.withLock({ reaped }) else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        lock.withLock { reaped = true }
    }

    /// Waits for the exit (polling, so the task can be cancelled); the exit status, or 128 +
    /// the signal number.
    package func wait(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while true {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                lock.withLock { reaped = true }
                if status & 0x7F == 0 { return (status >> 8) & 0xFF }
                return 128 + (status & 0x7F)
            }
            if ContinuousClock.now > deadline {
                kill(pid, SIGKILL)
                throw POSIXError(.ETIMEDOUT)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    package var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    package var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
}

extension ChildProcess {
    /// Waits until the daemon has sent its first events request (it says so on stderr).
    package func waitForReady(timeout: Duration = .seconds(20)) async throws {
        try await waitUntil("the first events request", timeout: timeout, poll: .milliseconds(10)) {
            self.stderr.contains("first events request sent")
        }
    }
}
