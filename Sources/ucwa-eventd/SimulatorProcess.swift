import SystemCalls
import SystemPackage

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
    private let output: SystemFile
    private var control: SystemFile?
    private var pending: [UInt8] = []
    private var lines: [String] = []
    private var reachedEnd = false
    /// The read that ended the output early, if one did.
    private var readFailure: SystemCallError?
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
        if let found = candidates.first(where: { PathCalls.isAccessible($0, X_OK) }) { return found }
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
        let file: SystemFile
        do {
            file = try SystemFile.open(
                path,
                .writeOnly,
                options: [.create, .exclusiveCreate],
                permissions: [.ownerReadWrite]
            )
        } catch {
            throw Failure(description: "cannot create \(path): \(error.errno)")
        }
        defer { file.close() }
        do {
            try file.writeAll(Array((secret + "\n").utf8))
        } catch {
            throw Failure(description: "cannot write \(path): \(error.errno)")
        }
    }

    /// The path of the running executable, from /proc/self/exe.
    static func ownExecutable() -> String? {
        try? PathCalls.readLink("/proc/self/exe")
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
        let outputPipe: (readEnd: SystemFile, writeEnd: SystemFile)
        let controlPipe: (readEnd: SystemFile, writeEnd: SystemFile)
        do {
            outputPipe = try SystemFile.pipe(name: "the output of \(path)")
        } catch {
            throw Failure(description: "pipe for \(path): \(error.errno)")
        }
        do {
            controlPipe = try SystemFile.pipe(name: "the input of \(path)")
        } catch {
            outputPipe.readEnd.close()
            outputPipe.writeEnd.close()
            throw Failure(description: "pipe for \(path): \(error.errno)")
        }
        let started = Result { () throws(SystemCallError) in
            try ChildProcessCalls.spawn(
                path,
                arguments: arguments,
                standardInput: .descriptor(controlPipe.readEnd),
                standardOutput: .descriptor(outputPipe.writeEnd)
            )
        }
        outputPipe.writeEnd.close()
        controlPipe.readEnd.close()
        switch started {
        case .success(let pid):
            self.pid = pid
        case .failure(let error):
            outputPipe.readEnd.close()
            controlPipe.writeEnd.close()
            throw Failure(description: "cannot start \(path): \(error.errno)")
        }
        // Read without blocking a thread (`line` polls). Should it fail, reads block instead:
        // the simulator writes its lines at once, so the wait stays short.
        try? outputPipe.readEnd.setNonBlocking()
        self.path = path
        output = outputPipe.readEnd
        control = controlPipe.writeEnd
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
            if let readFailure {
                throw Failure(description: "\(readFailure) while waiting for a line starting with \(prefix)")
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
            let count: Int
            do {
                count = try buffer.withUnsafeMutableBytes { raw in
                    Result { () throws(SystemCallError) in try output.read(into: raw) }
                }.get()
            } catch  where error.errno == .wouldBlock {
                return
            } catch {
                readFailure = error
                reachedEnd = true
                return
            }
            if count > 0 {
                pending.append(contentsOf: buffer[..<count])
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    lines.append(String(decoding: pending[..<newline], as: UTF8.self))
                    pending.removeSubrange(...newline)
                }
                continue
            }
            reachedEnd = true
            return
        }
    }

    /// Closes the simulator's standard input (it exits on end of file) and reaps it; SIGKILL
    /// after two seconds. Idempotent.
    func stop() {
        guard !exited else { return }
        exited = true
        control?.close()
        control = nil
        ChildProcessCalls.reap(pid, killingAfter: .seconds(2))
        output.close()
    }
}
