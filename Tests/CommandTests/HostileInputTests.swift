import Foundation
import Testing
import UCWATestSupport

@testable import StreamingJSON
@testable import UCWA
@testable import UCWASimulator

/// Hostile bodies on the event channel, against the daemon as a process: each is refused with
/// a clear error, skipped once its `next` is known, and the process's peak RSS stays flat.
@Suite struct HostileInputTests {
    /// Peak resident set (VmHWM) of a running process, in KiB.
    static func peakRSS(_ pid: pid_t) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return nil }
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }

    @Test(arguments: [
        ("100 000-deep nesting", HostileBody.deepNesting(depth: 100_000), "nesting deeper than the limit of 64"),
        (
            "a 100 MB string", HostileBody.longString(bytes: 100_000_000),
            "string longer than the limit of 1048576 bytes"
        ),
        (
            "a 2 GiB batch", HostileBody.endlessEvents(totalBytes: 2 << 30),
            "document larger than the limit of 4194304 bytes"
        ),
        (
            "a never-ending body", HostileBody.endlessEvents(totalBytes: nil),
            "document larger than the limit of 4194304 bytes"
        ),
    ])
    func refusedWithAClearErrorAndFlatMemory(name: String, body: HostileBody, error: String) async throws {
        let simulator = try await UCWASimulator.start()
        let (directory, config) = try simulator.runConfiguration(extra: "[Events]\nMaxBatchBytes=4194304\n")
        let daemon = try ChildProcess(
            [TestPaths.binary("ucwa-eventd"), "run", "--config", config],
            directory: directory
        )
        try await daemon.waitForReady()
        let baseline = Self.peakRSS(daemon.pid) ?? 0
        await simulator.inject(.hostileBody(body))
        // The parked poll ends after the server timeout (1 s in the config? no: 180 s) — release it with an event.
        await simulator.play(InvitationScript(subject: "before"))
        try await simulator.waitForAcknowledged(3)
        try await waitAtMost(.seconds(60), poll: .milliseconds(50)) { daemon.stderr.contains("skipping it") }
        await simulator.play(InvitationScript(subject: "after"))
        try await simulator.waitForAcknowledged(6)
        let peak = Self.peakRSS(daemon.pid) ?? 0
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0, "\(daemon.stderr)")
        print(
            "hostile input | \(name) | refused: \(daemon.stderr.contains(error)) | peak RSS \(peak / 1024) MiB (ready: \(baseline / 1024) MiB)"
        )
        #expect(daemon.stderr.contains(error), "\(daemon.stderr)")
        #expect(daemon.stderr.contains("skipping it"))
        // Sanitizer builds keep freed memory in quarantine: the bound holds for normal builds.
        if ProcessInfo.processInfo.environment["UCWA_SANITIZER"] == nil {
            #expect(peak < 96 * 1024, "peak RSS \(peak) KiB")
        }
        let subjects = daemon.stdout.split(separator: "\n").compactMap {
            try? JSONValue.parse(String($0))["subject"]?.stringValue
        }
        #expect(subjects.contains("after"), "the channel goes on after the hostile batch")
        await simulator.shutdown()
    }
}
