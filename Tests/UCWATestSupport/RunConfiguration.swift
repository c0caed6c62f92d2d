import Foundation

/// The files `ucwa-eventd run --config` needs, in a new temporary directory.
package enum RunConfiguration {
    /// A configuration for account `alice`, signing in as `username` at `discoverURL`, its
    /// password file and a state directory (`state`, made by the daemon); `extra` is appended
    /// to the configuration.
    package static func write(
        username: String,
        password: String,
        discoverURL: String,
        extra: String = ""
    ) throws -> (directory: String, config: String) {
        let directory = TestPaths.temporaryDirectory("ucwa-cmd")
        try (password + "\n").write(toFile: directory + "/password", atomically: true, encoding: .utf8)
        let config = """
            [Daemon]
            Account=alice
            StateDirectory=\(directory)/state
            [Server]
            DiscoverURL=\(discoverURL)
            [Auth]
            Username=\(username)
            PasswordFile=\(directory)/password
            \(extra)
            """
        try config.write(toFile: directory + "/ucwa-eventd.conf", atomically: true, encoding: .utf8)
        return (directory, directory + "/ucwa-eventd.conf")
    }
}
