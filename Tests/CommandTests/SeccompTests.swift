import Foundation
import Testing
import UCWATestSupport

@testable import UCWA
@testable import UCWASimulator

#if canImport(Glibc)
import Glibc
#endif

/// Zero seccomp denials at start and under load: the real binary runs under the units' own
/// `SystemCallFilter=`, built into a seccomp filter that kills the process on any other call
/// (as systemd does when `SystemCallErrorNumber=` is reset), through sign-in, link-only
/// invitations resolved eight at a time, a revoked token (401, a new grant), a reload and a stop.
@Suite struct SeccompTests {
    /// The syscalls a unit allows: its `SystemCallFilter=` lines in order (the first sets an
    /// allow list, `~` removes, later plain lines add), groups expanded with
    /// `systemd-analyze syscall-filter`, plus the calls systemd always allows.
    static func allowedSyscalls(unit: String) async throws -> Set<String> {
        let child = try ChildProcess(
            ["/usr/bin/systemd-analyze", "syscall-filter", "--no-pager"],
            directory: TestPaths.temporaryDirectory()
        )
        #expect(try await child.wait() == 0, "systemd-analyze syscall-filter: \(child.stderr)")
        var groups: [String: [String]] = [:]
        var current: String?
        for line in child.stdout.split(separator: "\n") {
            if line.hasPrefix("@") {
                current = String(line)
                groups[current!] = []
                continue
            }
            let entry = line.trimmingCharacters(in: .whitespaces)
            guard let current, !entry.isEmpty, !entry.hasPrefix("#") else { continue }
            groups[current, default: []].append(entry)
        }
        func expand(_ name: String) -> Set<String> {
            guard name.hasPrefix("@") else { return [name] }
            return Set((groups[name] ?? []).flatMap { expand($0) })
        }
        let lines = SystemdUnitTests.values("SystemCallFilter", in: try SystemdUnitTests.text(unit))
        var allowed: Set<String> = ["execve", "exit", "exit_group", "getrlimit", "rt_sigreturn", "sigreturn"]
        for (index, line) in lines.enumerated() {
            let deny = line.hasPrefix("~")
            let names = Set(
                (deny ? String(line.dropFirst()) : line).split(separator: " ").flatMap { expand(String($0)) }
            )
            #expect(index > 0 || !deny, "\(unit): the first SystemCallFilter= is an allow list")
            if deny { allowed.subtract(names) } else { allowed.formUnion(names) }
        }
        #expect(allowed.count > 200, "\(unit): \(allowed.count) syscalls allowed")
        return allowed
    }

    /// x86_64 syscall numbers from the kernel headers.
    static func syscallNumbers() throws -> [String: Int] {
        let header = try String(contentsOfFile: "/usr/include/x86_64-linux-gnu/asm/unistd_64.h", encoding: .utf8)
        var numbers: [String: Int] = [:]
        for line in header.split(separator: "\n") where line.hasPrefix("#define __NR_") {
            let parts = line.split(separator: " ")
            if parts.count == 3, let number = Int(parts[2]) { numbers[String(parts[1].dropFirst(5))] = number }
        }
        return numbers
    }

    /// Installs the filter (no new privileges, then SECCOMP_SET_MODE_FILTER: any syscall not
    /// listed kills the process) and executes the command.
    static let helper = #"""
        import ctypes, os, struct, sys
        numbers = [int(n) for n in open(sys.argv[1]).read().split()]
        code = []
        def op(kind, k, jt=0, jf=0): code.append(struct.pack("HBBI", kind, jt, jf, k))
        LD, JEQ, RET = 0x20, 0x15, 0x06
        ALLOW, KILL = 0x7FFF0000, 0x80000000
        op(LD, 4); op(JEQ, 0xC000003E, 1, 0); op(RET, KILL)
        op(LD, 0)
        for n in numbers:
            op(JEQ, n, 0, 1); op(RET, ALLOW)
        op(RET, KILL)
        buffer = ctypes.create_string_buffer(b"".join(code))
        class Program(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
        program = Program(len(code), ctypes.cast(buffer, ctypes.c_void_p))
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(38, 1, 0, 0, 0) != 0: raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
        if libc.prctl(22, 2, ctypes.byref(program), 0, 0) != 0: raise OSError(ctypes.get_errno(), "PR_SET_SECCOMP")
        os.execv(sys.argv[2], sys.argv[2:])
        """#

    @Test func theDaemonMakesNoCallTheUnitsFilterDenies() async throws {
        #if arch(x86_64)
        let allowed = try await Self.allowedSyscalls(unit: "ucwa-eventd.service")
        #expect(try await Self.allowedSyscalls(unit: "ucwa-eventd@.service") == allowed, "both units filter alike")
        #expect(!allowed.contains("setpriority"), "the units deny setpriority (@resources)")
        let numbers = try Self.syscallNumbers()
        let simulator = try await UCWASimulator.start(options: SimulatorOptions(embedResources: false))
        let (directory, config) = try simulator.runConfiguration(extra: "[Events]\nResolveConcurrency=8\n")
        try allowed.compactMap { numbers[$0] }.sorted().map(String.init).joined(separator: " ")
            .write(toFile: directory + "/allowed", atomically: true, encoding: .utf8)
        try Self.helper.write(toFile: directory + "/seccomp.py", atomically: true, encoding: .utf8)
        let daemon = try ChildProcess(
            [
                "/usr/bin/python3", directory + "/seccomp.py", directory + "/allowed", TestPaths.binary("ucwa-eventd"),
                "run", "--config", config,
            ],
            directory: directory
        )
        defer { daemon.killIfRunning() }
        for index in 0..<30 { await simulator.play(InvitationScript(subject: "Load \(index)")) }
        try await simulator.waitForAcknowledged(90)
        await simulator.inject(.revokeTokens)
        daemon.signal(SIGHUP)
        for index in 0..<10 { await simulator.play(InvitationScript(subject: "After \(index)")) }
        try await simulator.waitForAcknowledged(120)
        daemon.signal(SIGTERM)
        let code = try await daemon.wait()
        #expect(code == 0, "exit \(code) (\(128 + SIGSYS) is SIGSYS: a denied call); \(daemon.stderr.suffix(2000))")
        #expect(!daemon.stderr.contains("Failed to set thread priority"), "\(daemon.stderr.suffix(2000))")
        #expect(
            await simulator.stats().tokensIssued >= 2,
            "a new token after the revocation was granted under the filter"
        )
        #expect(daemon.stdout.split(separator: "\n").count == 121, "the opening and 120 invitation events")
        await simulator.shutdown()
        #endif
    }
}
