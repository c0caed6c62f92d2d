import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// System calls on paths that swift-system does not wrap, made the way `SystemFile`'s are:
/// a failure throws a `SystemCallError` naming the call and the path(s).
package enum PathCalls {
    /// rename(2): `from` replaces `to` atomically.
    package static func rename(_ from: String, to: String) throws(SystemCallError) {
        _ = try SystemCall.run("rename", "\(from) to \(to)") { Glibc.rename(from, to) }
    }

    /// link(2): `newPath` becomes another name of `existing`.
    package static func link(_ existing: String, as newPath: String) throws(SystemCallError) {
        _ = try SystemCall.run("link", "\(existing) to \(newPath)") { Glibc.link(existing, newPath) }
    }

    /// mkdir(2). `EEXIST` is an error here; `ensureDirectory` accepts it.
    static func makeDirectory(_ path: String, permissions: FilePermissions) throws(SystemCallError) {
        _ = try SystemCall.run("mkdir", path) { mkdir(path, permissions.rawValue) }
    }

    /// A directory at `path`: nothing to do when something is there already (stat(2)), else
    /// mkdir(2), which may race with another process creating it (`EEXIST` is fine too).
    package static func ensureDirectory(_ path: String, permissions: FilePermissions) throws(SystemCallError) {
        if exists(path) { return }
        do {
            try makeDirectory(path, permissions: permissions)
        } catch  where error.errno == .fileExists {
            return
        }
    }

    /// Whether anything is at `path` (stat(2) succeeds).
    static func exists(_ path: String) -> Bool {
        (try? SystemCall.system("stat", path) { try Stat(FilePath(path)) }) != nil
    }

    /// access(2): whether this process may use `path` as `mode` says (`R_OK`, `X_OK`, ...).
    package static func isAccessible(_ path: String, _ mode: Int32) -> Bool {
        (try? SystemCall.run("access", path) { access(path, mode) }) != nil
    }

    /// unlink(2).
    package static func remove(_ path: String) throws(SystemCallError) {
        _ = try SystemCall.run("unlink", path) { unlink(path) }
    }

    /// rmdir(2): `path` must be empty.
    package static func removeDirectory(_ path: String) throws(SystemCallError) {
        _ = try SystemCall.run("rmdir", path) { rmdir(path) }
    }

    /// mkdtemp(3): a new directory of mode 0700 named after `template` (which ends in
    /// `XXXXXX`); its path.
    package static func makeTemporaryDirectory(_ template: String) throws(SystemCallError) -> String {
        var bytes = Array(template.utf8CString)
        _ = try SystemCall.run("mkdtemp", template) {
            bytes.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) == nil ? -1 : 0 }
        }
        return String(decoding: bytes.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// readlink(2): the target of the symbolic link at `path`.
    package static func readLink(_ path: String) throws(SystemCallError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = try SystemCall.run("readlink", path) { readlink(path, &buffer, buffer.count - 1) }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The names in the directory at `path`, without `.` and `..`, in no particular order
    /// (opendir(3), readdir(3)).
    package static func entries(ofDirectory path: String) throws(SystemCallError) -> [String] {
        guard let handle = opendir(path) else {
            throw SystemCallError(call: "opendir", subject: path, errno: Errno(rawValue: Glibc.errno))
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
