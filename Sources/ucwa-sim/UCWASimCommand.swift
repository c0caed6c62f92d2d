import ArgumentParser
import UCWASimulator

#if canImport(Glibc)
import Glibc
#endif

/// `ucwa-sim`: the project's UCWA simulator, by hand. Prints its DiscoverURL and plays
/// participant invitations until interrupted.
@main
struct UCWASim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ucwa-sim",
        abstract: "Run the UCWA simulator on loopback (autodiscover, OAuth, applications, event channel, invitations).")

    @Option(help: "Port on 127.0.0.1 (0: any free port).")
    var port = 0

    @Option(help: "User name the token endpoint accepts.")
    var username = SimulatorOptions().username

    @Option(help: "File holding the password the token endpoint accepts (default: the simulator's built-in one).")
    var passwordFile: String?

    @Option(help: "Invitations to play (0: none, the channel only idles).")
    var invitations = 10

    @Option(help: "Milliseconds between invitations.")
    var intervalMs = 1000

    @Option(help: "Token lifetime in seconds.")
    var tokenLifetime = 8 * 3600

    @Flag(help: "Invitation events carry only the link (clients must GET the resource).")
    var linkOnly = false

    @Flag(help: "Rels carry the ms:rtc:saas: prefix.")
    var prefixedRels = false

    @Flag(help: "The autodiscover root redirects to a second pool.")
    var redirectAutodiscover = false

    @Flag(help: "The user resource redirects to a second pool (a second token is needed there).")
    var redirectUser = false

    func run() async throws {
        var options = SimulatorOptions(
            username: username,
            tokenLifetime: .seconds(tokenLifetime),
            redirectAutodiscover: redirectAutodiscover,
            redirectUser: redirectUser,
            prefixedRels: prefixedRels,
            embedResources: !linkOnly)
        if let passwordFile {
            options.password = try Self.readFirstLine(passwordFile)
        }
        let simulator = try await UCWASimulator.start(options: options, port: port)
        say("DiscoverURL=\(simulator.discoverURL)")
        say("Username=\(username)")
        let outcomes = InvitationOutcome.variety
        for index in 0..<invitations {
            try await Task.sleep(for: .milliseconds(intervalMs))
            let href = await simulator.play(InvitationScript(
                to: "sip:user\(index)@contoso.com", subject: "Invitation \(index + 1)",
                outcome: outcomes[index % outcomes.count], withStarted: index % 7 != 6))
            say("played \(href)")
        }
        // Serve until interrupted.
        while !Task.isCancelled {
            try await Task.sleep(for: .seconds(3600))
        }
    }

    /// One line on stdout, flushed at once (a pipe would otherwise hold it).
    func say(_ line: String) {
        print(line)
        fflush(nil)
    }

    static func readFirstLine(_ path: String) throws -> String {
        guard let file = fopen(path, "r") else {
            throw ValidationError("\(path): cannot open the password file (errno \(errno))")
        }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        guard getline(&line, &capacity, file) >= 0, let line else { return "" }
        defer { free(line) }
        var text = String(cString: line)
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        return text
    }
}
