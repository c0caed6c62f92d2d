import Foundation
import UCWATestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A real systemd (this machine's own, 252 on Debian 12) booted by `systemd-nspawn` over an
/// overlay of this machine's root, with the Swift toolchain and the work tree hidden, so that
/// what runs inside sees a Debian host without Swift. It shares the host's network namespace:
/// a simulator the test starts on 127.0.0.1 is reachable from inside.
///
/// Commands run inside with `nsenter` into the container's namespaces (no machined or D-Bus
/// on the host is needed). Nothing of the container survives `shutdown()`: the overlay's
/// upper layer is removed with it.
final class BootedContainer: @unchecked Sendable {
    /// Folders hidden by an empty tmpfs inside: the toolchain and the work tree.
    static let hidden = ["/opt/swift", "/work"]

    let name: String
    let base: String
    let root: String
    private let nspawn: ChildProcess
    /// The container's PID 1, as the host sees it.
    let leader: pid_t

    /// Why this machine cannot boot a container, or nil when it can.
    static func unavailableReason() -> String? {
        if geteuid() != 0 { return "booting a container needs root (systemd-nspawn)" }
        if !FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-nspawn") {
            return "systemd-nspawn is not installed (Debian's systemd-container; `make deps` installs it)"
        }
        if !FileManager.default.isExecutableFile(atPath: "/usr/bin/nsenter") {
            return "nsenter (util-linux) is missing"
        }
        let filesystems = (try? String(contentsOfFile: "/proc/filesystems", encoding: .utf8)) ?? ""
        if !filesystems.contains("overlay") { return "the kernel has no overlayfs" }
        return nil
    }

    /// Boots the container and waits until its systemd reports `running` (or `degraded`).
    /// `binds` are host folders bound read-only at the given container paths.
    init(
        name: String,
        binds: [(host: String, container: String)] = [],
        bootTimeout: Duration = .seconds(120)
    ) async throws {
        self.name = name
        base = "/var/tmp/ucwa-nspawn-\(name)-\(UUID().uuidString.prefix(8))"
        root = base + "/root"
        for folder in ["upper", "work", "root", "logs"] {
            try FileManager.default.createDirectory(atPath: base + "/" + folder, withIntermediateDirectories: true)
        }
        try await Self.sh(
            "mount -t overlay overlay -o lowerdir=/,upperdir=\(base)/upper,workdir=\(base)/work \(root)",
            in: base + "/logs"
        )
        // A machine id of its own: nspawn refuses a container with the host's.
        let machineID = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try (machineID + "\n").write(toFile: root + "/etc/machine-id", atomically: false, encoding: .utf8)
        var arguments = [
            "/usr/bin/systemd-nspawn", "--quiet", "--directory=\(root)", "--machine=\(name)",
            "--register=no", "--keep-unit", "--link-journal=no", "--console=pipe",
        ]
        arguments += Self.hidden.map { "--tmpfs=\($0)" }
        arguments += binds.map { "--bind-ro=\($0.host):\($0.container)" }
        arguments.append("--boot")
        nspawn = try ChildProcess(arguments, directory: base + "/logs")
        // nspawn is a subreaper: once its helper has gone, the container's init is its only child.
        let deadline = ContinuousClock.now + bootTimeout
        var found: pid_t?
        while found == nil {
            let children =
                (try? String(contentsOfFile: "/proc/\(nspawn.pid)/task/\(nspawn.pid)/children", encoding: .utf8)) ?? ""
            let pids = children.split(separator: " ").compactMap { pid_t($0) }
            if pids.count == 1, Self.command(of: pids[0]).hasSuffix("systemd") { found = pids[0] }
            if found == nil {
                guard ContinuousClock.now < deadline, kill(nspawn.pid, 0) == 0 else {
                    let log = nspawn.stdout + nspawn.stderr
                    nspawn.signal(SIGKILL)
                    _ = try? await nspawn.wait(timeout: .seconds(5))
                    try? await Self.sh("umount \(root)", in: base + "/logs")
                    try? FileManager.default.removeItem(atPath: base)
                    throw ContainerError.bootFailed("systemd-nspawn did not start an init: \(log)")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        leader = found!
        do {
            while true {
                let (_, state) = try await run("systemctl is-system-running")
                let text = state.trimmingCharacters(in: .whitespacesAndNewlines)
                if text == "running" || text == "degraded" { break }
                guard ContinuousClock.now < deadline else {
                    let jobs = (try? await run("systemctl list-jobs --no-pager"))?.output ?? ""
                    throw ContainerError.bootFailed("systemd did not finish booting: \(text); jobs: \(jobs)")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        } catch {
            // Nothing of a container that did not boot is left behind.
            await shutdown()
            throw error
        }
    }

    /// Runs a shell command inside; its exit status and its stdout and stderr together.
    @discardableResult
    func run(_ command: String, timeout: Duration = .seconds(60)) async throws -> (status: Int32, output: String) {
        let child = try ChildProcess(
            ["/usr/bin/nsenter", "--target=\(leader)", "--all", "--", "/bin/sh", "-c", command],
            directory: base + "/logs"
        )
        do {
            let status = try await child.wait(timeout: timeout)
            return (status, child.stdout + child.stderr)
        } catch {
            throw ContainerError.commandFailed(
                command: command,
                status: -1,
                output: "no exit within \(timeout): " + child.stdout + child.stderr
            )
        }
    }

    /// Runs a command inside and requires exit 0; its output.
    @discardableResult
    func mustRun(_ command: String, timeout: Duration = .seconds(60)) async throws -> String {
        let (status, output) = try await run(command, timeout: timeout)
        guard status == 0 else { throw ContainerError.commandFailed(command: command, status: status, output: output) }
        return output
    }

    /// Powers the container off (SIGTERM makes nspawn ask for an orderly shutdown), then
    /// removes the overlay and its upper layer.
    func shutdown() async {
        nspawn.signal(SIGTERM)
        if (try? await nspawn.wait(timeout: .seconds(20))) == nil { nspawn.signal(SIGKILL) }
        _ = try? await nspawn.wait(timeout: .seconds(5))
        try? await Self.sh("umount \(root) || umount -l \(root)", in: base + "/logs")
        try? FileManager.default.removeItem(atPath: base)
    }

    private static func command(of pid: pid_t) -> String {
        ((try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? "").trimmingCharacters(
            in: .whitespacesAndNewlines
        )
    }

    /// A command on the host.
    private static func sh(_ command: String, in directory: String) async throws {
        let child = try ChildProcess(["/bin/sh", "-c", command], directory: directory)
        let status = try await child.wait()
        guard status == 0 else {
            throw ContainerError.commandFailed(command: command, status: status, output: child.stderr)
        }
    }
}

enum ContainerError: Error, CustomStringConvertible {
    case bootFailed(String)
    case commandFailed(command: String, status: Int32, output: String)

    var description: String {
        switch self {
        case .bootFailed(let detail): return "container boot failed: \(detail)"
        case .commandFailed(let command, let status, let output): return "`\(command)` exited \(status): \(output)"
        }
    }
}
