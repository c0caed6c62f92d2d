import Foundation
import Testing
import UCWATestSupport

@testable import Locking

#if canImport(Glibc)
import Glibc
#endif

@Suite struct LockedTests {
    /// `Locked<Value>` is Sendable only when `Value` is: handing a lock around a non-Sendable
    /// class to another task does not type-check, a lock around a Sendable value does. Checked
    /// by the compiler itself against the built `Locking` module.
    @Test(arguments: [
        (value: "final class Shared {}", sendable: false), (value: "struct Shared: Sendable {}", sendable: true),
    ])
    func sendableOnlyWhenTheValueIs(value: String, sendable: Bool) async throws {
        let modules = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [
            modules.appendingPathComponent("Modules"),
            modules.deletingLastPathComponent().appendingPathComponent("Modules"), modules,
        ]
        let folder = try #require(
            candidates.first {
                FileManager.default.fileExists(atPath: $0.appendingPathComponent("Locking.swiftmodule").path)
            },
            "Locking.swiftmodule near \(modules.path)"
        )
        let source = URL(fileURLWithPath: TestPaths.temporaryDirectory("locked") + "/locked.swift")
        try """
        import Locking
        \(value)
        func send(_ value: some Sendable) {}
        send(Locked(Shared()))
        """.write(to: source, atomically: true, encoding: .utf8)
        // `Locked` has `package` access: the probe joins the package under the name SwiftPM gave
        // it, the checkout folder's name as an identifier.
        let packageName = String(
            TestPaths.repository.lastPathComponent.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
        )
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "swiftc", "-typecheck", "-swift-version", "6", "-package-name", packageName, "-I", folder.path, source.path,
        ]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = errors
        try process.run()
        let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect((process.terminationStatus == 0) == sendable, "\(output)")
        if !sendable { #expect(output.contains("Sendable"), "\(output)") }
    }

    /// Eight threads each add 1 a hundred thousand times through `withLock`: without mutual
    /// exclusion the read-modify-write steps interleave and increments are lost.
    @Test func incrementsFromManyThreadsAreNotLost() {
        final class Box: @unchecked Sendable { let counter = Locked(0) }
        let box = Box()
        let perThread = 100_000
        var threads: [pthread_t] = []
        for _ in 0..<8 {
            var thread = pthread_t()
            let context = Unmanaged.passRetained(box).toOpaque()
            let result = pthread_create(
                &thread,
                nil,
                { context in
                    let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
                    for _ in 0..<100_000 { box.counter.withLock { $0 += 1 } }
                    return nil
                },
                context
            )
            #expect(result == 0)
            threads.append(thread)
        }
        for thread in threads { pthread_join(thread, nil) }
        #expect(box.counter.withLock { $0 } == 8 * perThread)
    }

    @Test func withLockReturnsTheBodysResultAndRethrows() {
        struct Refused: Error {}
        let locked = Locked([1, 2])
        #expect(
            locked.withLock {
                $0.append(3)
                return $0.count
            } == 3
        )
        #expect(throws: Refused.self) { try locked.withLock { _ in throw Refused() } }
        #expect(locked.withLock { $0 } == [1, 2, 3])
    }
}
