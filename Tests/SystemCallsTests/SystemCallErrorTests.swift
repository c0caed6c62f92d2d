import SystemPackage
import Testing
import UCWATestSupport

@testable import SystemCalls

/// The layer's errors name the call and the path(s) it was made on, with errno's text.
@Suite struct SystemCallErrorTests {
    @Test func openOfAMissingFileNamesTheCallAndThePath() throws {
        let path = TestPaths.temporaryDirectory("system-calls") + "/missing.json"
        let error = #expect(throws: SystemCallError.self) { try SystemFile.open(path, .readOnly) }
        #expect(error?.description == "open \(path): No such file or directory")
        #expect(error?.errno == .noSuchFileOrDirectory)
    }

    @Test func renameNamesBothPaths() throws {
        let directory = TestPaths.temporaryDirectory("system-calls")
        let error = #expect(throws: SystemCallError.self) {
            try PathCalls.rename(directory + "/a", to: directory + "/b")
        }
        #expect(error?.description == "rename \(directory)/a to \(directory)/b: No such file or directory")
    }

    @Test func writeToAReadOnlyFileNamesTheFile() throws {
        let path = TestPaths.temporaryDirectory("system-calls") + "/file"
        let created = try SystemFile.open(path, .writeOnly, options: [.create], permissions: [.ownerReadWrite])
        created.close()
        let file = try SystemFile.open(path, .readOnly)
        defer { file.close() }
        let error = #expect(throws: SystemCallError.self) { try file.writeAll(Array("x".utf8)) }
        #expect(error == SystemCallError(call: "write", subject: path, errno: .badFileDescriptor))
    }

    @Test func readToEndStopsAtItsLimit() throws {
        let path = TestPaths.temporaryDirectory("system-calls") + "/large"
        let file = try SystemFile.open(path, .readWrite, options: [.create], permissions: [.ownerReadWrite])
        defer { file.close() }
        try [UInt8](repeating: 1, count: 5000).withUnsafeBytes { try file.writeAll($0, atOffset: 0) }
        let error = #expect(throws: SystemCallError.self) { try file.readToEnd(limit: 4096) }
        #expect(error == SystemCallError(call: "read", subject: path, errno: .fileTooLarge))
    }
}
