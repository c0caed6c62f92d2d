import Foundation
import SystemCalls

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
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        pid = try ChildProcessCalls.spawn(
            arguments[0],
            arguments: Array(arguments.dropFirst()),
            environment: merged,
            standardInput: .reading("/dev/null"),
            standardOutput: .writing(stdoutPath),
            standardError: .writing(stderrPath),
            defaultSignals: [SIGTERM, SIGINT, SIGHUP, SIGPIPE]
        )
    }

    package func signal(_ number: Int32) {
        ChildProcessCalls.signal(pid, number)
    }

    private let lock = NSLock()
    private var reaped = false

    /// SIGKILL and reap, unless `wait` reaped it already: for a test that failed before its
    /// stop (a `defer`), so that no daemon outlives its test.
    package func killIfRunning() {
        guard !lock.withLock({ reaped }) else { return }
        ChildProcessCalls.signal(pid, SIGKILL)
        _ = ChildProcessCalls.exitStatus(of: pid, waiting: true)
        lock.withLock { reaped = true }
    }

    /// Waits for the exit (polling, so the task can be cancelled); the exit status, or 128 +
    /// the signal number.
    package func wait(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let status = ChildProcessCalls.exitStatus(of: pid) {
                lock.withLock { reaped = true }
                return status
            }
            if ContinuousClock.now > deadline {
                ChildProcessCalls.signal(pid, SIGKILL)
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
