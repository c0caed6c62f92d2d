#if canImport(Glibc)
import Glibc
#endif

/// `ucwa-sim` as a child process: its standard output is a pipe this process reads line by
/// line (non-blocking, polled, so no pool thread ever blocks), its standard input the read end
/// of a pipe whose write end only this process holds: when this process ends, however it
/// ends, the simulator sees end of file and exits.
final class SimulatorProcess: @unchecked Sendable {
    let path: String
    let pid: pid_t
    private let output: Int32
    private var control: Int32
    private var pending: [UInt8] = []
    private var lines: [String] = []
    private var reachedEnd = false
    private var exited = false

    /// What went wrong starting or talking to the simulator, with the path(s) involved.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The simulator program: `ucwa-sim` beside this executable (/proc/self/exe), else the
    /// first executable `ucwa-sim` in `$PATH`.
    static func locate(environment: [String: String]) throws(Failure) -> String {
        var candidates: [String] = []
        if let executable = ownExecutable(), let slash = executable.lastIndex(of: "/") {
            candidates.append(String(executable[..<slash]) + "/ucwa-sim")
        }
        let searchPath = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in searchPath.split(separator: ":") where !directory.isEmpty {
            candidates.append(directory + "/ucwa-sim")
        }
        if let found = candidates.first(where: { access($0, X_OK) == 0 }) { return found }
        throw Failure(
            description: """
                the simulator program ucwa-sim was not found: looked for \(candidates.first ?? "ucwa-sim") \
                (beside this executable) and in PATH=\(searchPath); install the ucwa-sim package \
                (make deb builds it) or build it with `swift build -c release --product ucwa-sim`
                """
        )
    }

    /// Writes `secret` and a newline to a new file of mode 0600 at `path`.
    static func writeSecret(_ secret: String, to path: String) throws(Failure) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(description: "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array((secret + "\n").utf8)
        guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw Failure(description: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// The path of the running executable, from /proc/self/exe.
    static func ownExecutable() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `key=value` fields of a line such as `demo-done events=N applications=A`.
    static func fields(_ line: String) -> [String: String] {
        var result: [String: String] = [:]
        for word in line.split(separator: " ") {
            if let equals = word.firstIndex(of: "=") {
                result[String(word[..<equals])] = String(word[word.index(after: equals)...])
            }
        }
        return result
    }

    /// Starts `path` with `arguments`; stderr is shared with this process.
    init(path: String, arguments: [String]) throws(Failure) {
        var outputPipe: [Int32] = [-1, -1]
        var controlPipe: [Int32] = [-1, -1]
        // Close-on-exec, so that no other child inherits an end (pipe2 is not in Glibc's module).
        guard pipe(&outputPipe) == 0 else {
            throw Failure(description: "pipe for \(path): \(String(cString: strerror(errno)))")
        }
        guard pipe(&controlPipe) == 0 else {
            close(outputPipe[0])
            close(outputPipe[1])
            throw Failure(description: "pipe for \(path): \(String(cString: strerror(errno)))")
        }
        for descriptor in outputPipe + controlPipe { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, controlPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // No blocked signals, and SIGPIPE back to its default: this process ignores it, and an
        // ignored signal stays ignored across exec (handled ones are reset by exec itself).
        var signals = sigset_t()
        sigemptyset(&signals)
        posix_spawnattr_setsigmask(&attributes, &signals)
        sigaddset(&signals, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &signals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        close(outputPipe[1])
        close(controlPipe[0])
        guard result == 0 else {
            close(outputPipe[0])
            close(controlPipe[1])
            throw Failure(description: "cannot start \(path): \(String(cString: strerror(result)))")
        }
        _ = fcntl(outputPipe[0], F_SETFL, fcntl(outputPipe[0], F_GETFL) | O_NONBLOCK)
        self.path = path
        self.pid = pid
        output = outputPipe[0]
        control = controlPipe[1]
    }

    /// The value of the first `key=value` line, waiting at most `timeout`.
    func value(of key: String, timeout: Duration) async throws(Failure) -> String {
        let line = try await line(startingWith: key + "=", timeout: timeout, until: { false })
        return String(line.dropFirst(key.count + 1))
    }

    /// The first line that starts with `prefix` (earlier lines are dropped), waiting at most
    /// `timeout` or until `giveUp` says so.
    func line(startingWith prefix: String, timeout: Duration, until giveUp: () -> Bool) async throws(Failure) -> String
    {
        let deadline = ContinuousClock.now + timeout
        while true {
            while !lines.isEmpty {
                let line = lines.removeFirst()
                if line.hasPrefix(prefix) { return line }
            }
            if reachedEnd {
                throw Failure(description: "\(path) ended its output without a line starting with \(prefix)")
            }
            readAvailable()
            if !lines.isEmpty || reachedEnd { continue }
            if giveUp() { throw Failure(description: "stopped while waiting for \(path)") }
            if ContinuousClock.now > deadline {
                throw Failure(description: "\(path) printed no line starting with \(prefix) within \(timeout)")
            }
            do { try await Task.sleep(for: .milliseconds(20)) } catch {
                throw Failure(description: "cancelled while waiting for \(path)")
            }
        }
    }

    /// Reads what the pipe holds now and splits it into lines.
    private func readAvailable() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if count > 0 {
                pending.append(contentsOf: buffer[..<count])
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    lines.append(String(decoding: pending[..<newline], as: UTF8.self))
                    pending.removeSubrange(...newline)
                }
                continue
            }
            if count == 0 { reachedEnd = true }
            if count < 0, errno == EINTR { continue }
            return
        }
    }

    /// Closes the simulator's standard input (it exits on end of file) and reaps it; SIGKILL
    /// after two seconds. Idempotent.
    func stop() {
        guard !exited else { return }
        exited = true
        if control >= 0 {
            close(control)
            control = -1
        }
        var status: Int32 = 0
        for _ in 0..<200 {
            if waitpid(pid, &status, WNOHANG) == pid {
                close(output)
                return
            }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
        close(output)
    }
}
