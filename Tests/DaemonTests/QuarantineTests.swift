import Foundation
import Testing
import UCWATestSupport

@testable import Eventd
@testable import SystemCalls

/// The quarantine's file I/O: a capture kept under its batch's name, and a capture that could
/// not be made reported with the call and path that failed.
@Suite struct QuarantineTests {
    @Test func aCaptureIsKeptUnderItsBatchsAck() throws {
        let directory = TestPaths.temporaryDirectory("ucwa-quarantine") + "/quarantine"
        let quarantine = Quarantine(directory: directory)
        let capture = quarantine.startCapture()
        Array("{\"sender\":[".utf8).withUnsafeBytes { capture.append($0) }
        Array("]}".utf8).withUnsafeBytes { capture.append($0) }
        #expect(capture.finish() == nil)
        let path = try quarantine.keep(batchAt: "https://pool.contoso.com/ucwa/events?ack=12&timeout=180")
        #expect(path.hasPrefix(directory + "/") && path.hasSuffix("-ack12.json"))
        #expect(FileManager.default.contents(atPath: path) == Data("{\"sender\":[]}".utf8))
    }

    /// The quarantine directory's parent is a file: mkdir fails, and the capture says so
    /// instead of dropping the batch's bytes silently.
    @Test func aCaptureThatCannotStartSaysWhy() throws {
        let parent = TestPaths.temporaryDirectory("ucwa-quarantine") + "/state"
        #expect(FileManager.default.createFile(atPath: parent, contents: Data()))
        let capture = Quarantine(directory: parent + "/quarantine").startCapture()
        Array("{}".utf8).withUnsafeBytes { capture.append($0) }
        #expect(capture.finish()?.description == "mkdir \(parent)/quarantine: Not a directory")
    }
}
