import Foundation

/// Where the tests find the repository, the built programs, the shared test data and a fresh
/// temporary directory.
package enum TestPaths {
    /// The repository's root.
    package static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // UCWATestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repository

    /// The test data kept beside the repository: `$UCWA_SHARED`, else `../shared`.
    package static let shared: URL = {
        if let path = ProcessInfo.processInfo.environment["UCWA_SHARED"] {
            return URL(fileURLWithPath: path)
        }
        return repository.deletingLastPathComponent().appendingPathComponent("shared")
    }()

    /// The built `ucwa-eventd`: beside the test bundle, one folder up, or in `.build/debug`.
    package static var daemon: URL {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for folder in [beside, beside.deletingLastPathComponent(), repository.appendingPathComponent(".build/debug")] {
            let candidate = folder.appendingPathComponent("ucwa-eventd")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return repository.appendingPathComponent(".build/debug/ucwa-eventd")
    }

    /// A built program (`ucwa-eventd`, `ucwa-sim`), from the daemon's folder.
    package static func binary(_ name: String) -> String {
        daemon.deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// A new, empty directory under the system's temporary directory.
    package static func temporaryDirectory(_ prefix: String = "ucwa-test") -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
