import Eventd
import Foundation
import Testing

@Suite struct CheckpointStoreTests {
    /// The state directory is created by the first save, and again if it disappears while the
    /// daemon runs (an operator's `rm -rf`, a tmpfs remount): the next save recreates it.
    @Test func saveCreatesTheDirectoryAndRecreatesItWhenRemoved() throws {
        let parent = NSTemporaryDirectory() + "ucwa-checkpoint-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let store = CheckpointStore(directory: parent + "/state")
        var checkpoint = Checkpoint(endpointID: "e", eventsURL: "https://example.com/events?ack=1", sequence: 7)

        try store.save(checkpoint)
        #expect(try store.load() == checkpoint)

        try FileManager.default.removeItem(atPath: parent + "/state")
        #expect(try store.load() == nil)
        checkpoint.sequence = 8
        try store.save(checkpoint)
        #expect(try store.load() == checkpoint)
        #expect(!FileManager.default.fileExists(atPath: parent + "/state/checkpoint.json.tmp"))
    }

    /// A directory that cannot be created is an error naming the file, not a crash or a loop.
    @Test func anUncreatableDirectoryIsAClearError() {
        let store = CheckpointStore(directory: "/proc/ucwa-eventd-no-such/state")
        #expect {
            try store.save(Checkpoint(endpointID: "e"))
        } throws: { error in
            "\(error)".contains("checkpoint.json")
        }
    }
}
