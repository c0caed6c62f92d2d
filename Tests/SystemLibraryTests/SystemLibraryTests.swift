import CCurl
import CSystemd
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The system library targets link and their shims work: libcurl answers its version with the
/// features the daemon relies on, and sd_notify is a no-op without $NOTIFY_SOCKET.
/// Serialized: two of its tests set and unset the process's NOTIFY_SOCKET, which in parallel
/// made one see the other's value.
@Suite(.serialized) struct SystemLibraryTests {
    @Test func curlVersionInfo() throws {
        let info = try #require(ucwa_curl_version_info())
        let version = String(cString: info.pointee.version)
        #expect(version.split(separator: ".").count == 3, "\(version)")
        let features = Int32(info.pointee.features)
        #expect(features & CURL_VERSION_SSL != 0, "libcurl without TLS")
        #expect(info.pointee.age.rawValue >= CURLVERSION_TENTH.rawValue, "headers and library disagree")
        let ssl = String(cString: info.pointee.ssl_version)
        #expect(ssl.contains("OpenSSL"), "\(ssl)")
    }

    @Test func curlEasySetoptShim() throws {
        let handle = try #require(curl_easy_init())
        defer { curl_easy_cleanup(handle) }
        #expect(ucwa_curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1) == CURLE_OK)
        #expect(ucwa_curl_easy_setopt_string(handle, CURLOPT_URL, "https://127.0.0.1/") == CURLE_OK)
        // An option that takes a long, given a bad value, is refused by libcurl: the shim passes
        // the value through unchanged.
        #expect(ucwa_curl_easy_setopt_long(handle, CURLOPT_HTTP_VERSION, 1000) != CURLE_OK)
    }

    @Test func sdNotifyWithoutSocketIsANoOp() {
        unsetenv("NOTIFY_SOCKET")
        #expect(ucwa_sd_notify(0, "READY=1") == 0)
    }

    @Test func sdNotifyReachesASocket() throws {
        // A real datagram socket standing in for systemd's notify socket.
        let path = "/tmp/ucwa-eventd-notify-\(getpid())"
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(fd >= 0)
        defer {
            close(fd)
            unlink(path)
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(bound == 0)
        setenv("NOTIFY_SOCKET", path, 1)
        defer { unsetenv("NOTIFY_SOCKET") }
        #expect(ucwa_sd_notify(0, "STATUS=testing") > 0)
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        #expect(count > 0)
        #expect(String(decoding: buffer.prefix(max(0, count)), as: UTF8.self) == "STATUS=testing")
    }
}
