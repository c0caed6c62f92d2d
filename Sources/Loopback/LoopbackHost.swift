/// The one test of "this host name never leaves the machine", shared by the HTTP client (plain
/// HTTP is allowed only there) and the sign-in machine (an autodiscover redirect answered over
/// plain HTTP is trusted only from there).
///
/// Loopback means the literal addresses 127.0.0.0/8 in dotted-quad form (four decimal octets),
/// `::1` (with or without brackets) and the name `localhost`. Anything else is not, even when a
/// resolver would map it to loopback: `127.evil.example` is a DNS name anybody can register,
/// and the shorthand forms `127.1` or `0x7f.0.0.1` are refused too, because a refusal is safe
/// (the operator can still set `AllowInsecureHTTP=yes`) and a wrong yes is not.
package enum LoopbackHost {
    /// Whether `host` (a URL's host part, any case) is a loopback host.
    package static func contains(_ host: some StringProtocol) -> Bool {
        let name = host.lowercased()
        if name == "localhost" || name == "::1" || name == "[::1]" { return true }
        let octets = name.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets[0] == "127" else { return false }
        return octets.allSatisfy { octet in
            !octet.isEmpty && octet.count <= 3 && octet.allSatisfy { $0.isASCII && $0.isNumber } && UInt8(octet) != nil
        }
    }
}
