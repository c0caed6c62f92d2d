import ArgumentParser
import Eventd

#if canImport(Glibc)
import Glibc
#endif

/// `ucwa-eventd check-config`: validates and prints the effective settings. Exit 0 or 78.
///
/// The password is checked where `run` would find it: the systemd credential when
/// `$CREDENTIALS_DIRECTORY` is set, else `PasswordFile=`. An operator checking a unit's
/// configuration from a shell has neither: then the file the units hand over as the credential
/// is checked — `NAME.password` beside `NAME.conf` (`LoadCredential=password:/etc/ucwa-eventd/%i.password`
/// for `/etc/ucwa-eventd/%i.conf`) — and the output says which file it was.
struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration and print the effective settings (secrets masked)."
    )

    @Option(help: "Configuration file (default: /etc/ucwa-eventd/ucwa-eventd.conf).")
    var config: String?

    func run() async throws {
        let environment = processEnvironment()
        let configuration = try loadConfiguration(path: config, environment: environment, flags: [])
        var text = ConfigurationLoader.describe(configuration)
        do {
            try ConfigurationLoader.validateForRun(configuration)
            var source = configuration
            let fromCredential = !(environment["CREDENTIALS_DIRECTORY"] ?? "").isEmpty
            if !fromCredential, source.passwordFile == nil {
                source.passwordFile = Self.unitCredentialFile(
                    forConfiguration: config ?? ConfigurationLoader.defaultPath
                )
            }
            _ = try ConfigurationLoader.password(for: source, environment: environment)
            if !fromCredential, configuration.passwordFile == nil, let file = source.passwordFile {
                text += "\n# password: \(file) (the unit's credential \"password\") readable (not shown)\n"
            } else {
                text += "\n# password: readable (not shown)\n"
            }
        } catch {
            print(text, terminator: "")
            fflush(nil)
            Diagnostics.print("configuration error: \(error)")
            throw ExitCode(ExitStatus.configuration)
        }
        print(text, terminator: "")
    }

    /// The password file the units load as the credential for this configuration file:
    /// `/etc/ucwa-eventd/alice.conf` → `/etc/ucwa-eventd/alice.password`.
    static func unitCredentialFile(forConfiguration path: String) -> String {
        let stem = path.hasSuffix(".conf") ? String(path.dropLast(".conf".count)) : path
        return stem + ".password"
    }
}
