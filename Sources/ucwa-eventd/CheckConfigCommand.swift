import ArgumentParser
import Eventd

#if canImport(Glibc)
import Glibc
#endif

/// `ucwa-eventd check-config`: validates and prints the effective settings. Exit 0 or 78.
struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration and print the effective settings (secrets masked).")

    @Option(help: "Configuration file (default: /etc/ucwa-eventd/ucwa-eventd.conf).")
    var config: String?

    func run() async throws {
        let environment = processEnvironment()
        let configuration = try loadConfiguration(path: config, environment: environment, flags: [])
        var text = ConfigurationLoader.describe(configuration)
        do {
            try ConfigurationLoader.validateForRun(configuration)
            _ = try ConfigurationLoader.password(for: configuration, environment: environment)
            text += "\n# password: readable (not shown)\n"
        } catch {
            print(text, terminator: "")
            fflush(nil)
            Diagnostics.print("configuration error: \(error)")
            throw ExitCode(Eventd.ExitCode.configuration)
        }
        print(text, terminator: "")
    }
}
