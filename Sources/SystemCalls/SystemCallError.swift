import SystemPackage

/// A system call that failed: which call, on what (a path, or the name of a descriptor such as
/// `stdout`), and the error number it set. Its text is `<call> <subject>: <strerror>`.
package struct SystemCallError: Error, Sendable, Equatable, CustomStringConvertible {
    package var call: String
    package var subject: String
    package var errno: Errno

    package init(call: String, subject: String, errno: Errno) {
        self.call = call
        self.subject = subject
        self.errno = errno
    }

    package var description: String { "\(call) \(subject): \(errno)" }
}
