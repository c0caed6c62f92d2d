import Foundation
import Testing
import UCWATestSupport

/// The layer stays the only place that reads `errno` or retries by error number: a source file
/// elsewhere that does is named here (as issue 16 asks: "the domain code never sees errno").
@Suite struct LayerBoundaryTests {
    /// Reading or testing `errno` (not SystemCallError's `.errno`, not an `errno:` label), or
    /// naming the error numbers a hand-rolled retry or write loop tests.
    static var rawErrno: Regex<(Substring, Substring?, Substring?, Substring?, Substring?)> {
        /(^|[^.\w])errno($|[^\w:])|\bE(INTR|AGAIN|WOULDBLOCK|PIPE)\b|(^|[^.\w])strerror\(/
    }

    /// Where `errno` is written, not read: the executable's `setpriority` answers libdispatch
    /// as the C function would, which sets `errno` on failure (DaemonSupport.swift).
    static let allowed: Set<String> = ["Sources/ucwa-eventd/DaemonSupport.swift:        errno = ENOSYS"]

    @Test func noSourceOutsideTheLayerReadsErrno() throws {
        let sources = TestPaths.repository.appendingPathComponent("Sources")
        let files = try #require(FileManager.default.subpathsOfDirectory(atPath: sources.path) as [String]?)
        var found: [String] = []
        for file in files where file.hasSuffix(".swift") && !file.hasPrefix("SystemCalls/") {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                let code = line.trimmingCharacters(in: .whitespaces)
                guard !code.hasPrefix("//"), line.contains(Self.rawErrno) else { continue }
                let entry = "Sources/\(file):\(line)"
                if !Self.allowed.contains(entry) { found.append(entry) }
            }
        }
        #expect(found.isEmpty, "errno outside Sources/SystemCalls:\n\(found.joined(separator: "\n"))")
    }
}
