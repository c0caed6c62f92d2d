import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Unix-domain sockets, as far as this package uses them.
package enum UnixSocketProbe {
    /// Whether a datagram socket connects to `path` (journald's socket is there and listens).
    package static func acceptsDatagrams(at path: String) -> Bool {
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard let descriptor = try? SystemCall.run("socket", path, { socket(AF_UNIX, type, 0) }) else { return false }
        defer { _ = Glibc.close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let connected = try? SystemCall.run("connect", path) {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
        return connected != nil
    }
}
