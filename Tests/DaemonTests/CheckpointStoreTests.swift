import Foundation
import Testing
import UCWATestSupport

@testable import Eventd

@Suite struct CheckpointStoreTests {
    /// The state directory is created by the first save, and again if it disappears while the
    /// daemon runs (an operator's `rm -rf`, a tmpfs remount): the next save recreates it.
    @Test func saveCreatesTheDirectoryAndRecreatesItWhenRemoved() throws {
        let parent = TestPaths.temporaryDirectory("ucwa-daemon")
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let store = CheckpointStore(directory: parent + "/state")
        var checkpoint = Checkpoint(endpointID: "e", eventsURL: "https://example.com/events?ack=1", sequence: 7)

        try store.save(checkpoint)
        #expect(try store.load() == checkpoint)

        try FileManager.default.removeItem(atPath: parent + "/state")
        #expect(try store.load() == nil)
        checkpoint = Checkpoint(endpointID: "e", eventsURL: "https://example.com/events?ack=1", sequence: 8)
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

    /// A failed step names the checkpoint, the step and its file, and the error of that very
    /// call, read before anything else ran: a directory where the temporary file goes (open(2)
    /// says EISDIR), or /dev/full as the temporary file (the write fails after the open).
    @Test(arguments: [
        (symlinkToDevFull: false, expected: "cannot create %/checkpoint.json.tmp: Is a directory"),
        (symlinkToDevFull: true, expected: "cannot write %/checkpoint.json.tmp: No space left on device"),
    ])
    func aFailedStepNamesItsFileAndItsOwnError(symlinkToDevFull: Bool, expected: String) throws {
        let directory = TestPaths.temporaryDirectory("ucwa-daemon")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let temporary = directory + "/checkpoint.json.tmp"
        if symlinkToDevFull {
            try FileManager.default.createSymbolicLink(atPath: temporary, withDestinationPath: "/dev/full")
        } else {
            try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
        }
        #expect {
            try CheckpointStore(directory: directory).save(Checkpoint(endpointID: "e"))
        } throws: { error in
            "\(error)" == "\(directory)/checkpoint.json: " + expected.replacingOccurrences(of: "%", with: directory)
        }
    }

    /// A checkpoint that cannot be read is an error with read(2)'s reason, not "no checkpoint".
    @Test func anUnreadableCheckpointIsAnErrorNotAFreshStart() throws {
        let directory = TestPaths.temporaryDirectory("ucwa-daemon")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(
            atPath: directory + "/checkpoint.json",
            withIntermediateDirectories: false
        )
        #expect {
            try CheckpointStore(directory: directory).load()
        } throws: { error in
            "\(error)" == "\(directory)/checkpoint.json: cannot read: Is a directory"
        }
    }

    /// Saves alternate between two files: each writes the file of the checkpoint before last,
    /// never the one `checkpoint.json` names, which stays whole and readable throughout.
    @Test func savesNeverWriteTheFileTheCheckpointNames() throws {
        let directory = TestPaths.temporaryDirectory("ucwa-daemon")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = CheckpointStore(directory: directory)
        func inode(_ name: String) throws -> UInt64 {
            try #require(
                FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.systemFileNumber] as? UInt64
            )
        }
        var checkpoint = Checkpoint(endpointID: "e", eventsURL: "https://example.com/events?ack=1", sequence: 1)
        try store.save(checkpoint)
        var inodes: Set<UInt64> = []
        for sequence in Int64(2)...6 {
            let before = checkpoint
            let current = try inode("checkpoint.json")
            checkpoint = Checkpoint(
                endpointID: "e",
                eventsURL: "https://example.com/events?ack=\(sequence)",
                sequence: sequence
            )
            try store.save(checkpoint)
            #expect(try store.load() == checkpoint)
            // The file that was named checkpoint.json is untouched, now as the spare.
            #expect(try inode("checkpoint.json") != current)
            #expect(try inode("checkpoint.json.spare") == current)
            let spare = try #require(FileManager.default.contents(atPath: directory + "/checkpoint.json.spare"))
            #expect(try Checkpoint.decode(Array(spare), file: "spare") == before)
            inodes.insert(try inode("checkpoint.json"))
        }
        #expect(inodes.count == 2)
        #expect(!FileManager.default.fileExists(atPath: directory + "/checkpoint.json.tmp"))
    }

    /// A temporary file left by a crash, longer than the checkpoint now saved, leaves nothing of
    /// its old bytes behind (the file is overwritten in place, then cut to length).
    @Test func aLongerLeftoverTemporaryFileIsCutToLength() throws {
        let directory = TestPaths.temporaryDirectory("ucwa-daemon")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let leftover = Data(repeating: UInt8(ascii: "x"), count: 20_000)
        #expect(FileManager.default.createFile(atPath: directory + "/checkpoint.json.tmp", contents: leftover))
        let store = CheckpointStore(directory: directory)
        let checkpoint = Checkpoint(endpointID: "e", eventsURL: "https://example.com/events?ack=9", sequence: 9)
        try store.save(checkpoint)
        #expect(try store.load() == checkpoint)
        let size = try #require(
            FileManager.default.attributesOfItem(atPath: directory + "/checkpoint.json")[.size] as? Int
        )
        #expect(size == checkpoint.encoded().count)
    }
}
