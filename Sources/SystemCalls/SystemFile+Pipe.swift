import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

extension SystemFile {
    /// A new pipe, both ends close-on-exec so that no child inherits one by accident
    /// (pipe2(2) is not in Glibc's module: pipe(2), then fcntl(2) on each end). `name` goes
    /// into the ends' errors.
    package static func pipe(name: String) throws(SystemCallError) -> (readEnd: SystemFile, writeEnd: SystemFile) {
        let (readEnd, writeEnd) = try SystemCall.system("pipe", name) { try FileDescriptor.pipe() }
        let ends = (SystemFile(readEnd, name: name), SystemFile(writeEnd, name: name))
        do {
            try ends.0.setFlag(FD_CLOEXEC, get: F_GETFD, set: F_SETFD)
            try ends.1.setFlag(FD_CLOEXEC, get: F_GETFD, set: F_SETFD)
        } catch {
            ends.0.close()
            ends.1.close()
            throw error
        }
        return ends
    }

    /// O_NONBLOCK on the open file: reads and writes that would wait throw `Errno.wouldBlock`
    /// instead (the write-all waits in poll(2) then).
    package func setNonBlocking() throws(SystemCallError) {
        try setFlag(O_NONBLOCK, get: F_GETFL, set: F_SETFL)
    }

    private func setFlag(_ flag: Int32, get: Int32, set: Int32) throws(SystemCallError) {
        let flags = try SystemCall.run("fcntl", name) { fcntl(descriptor.rawValue, get) }
        _ = try SystemCall.run("fcntl", name) { fcntl(descriptor.rawValue, set, flags | flag) }
    }
}
