import Foundation
import Testing
import UCWATestSupport

@testable import Eventd
@testable import UCWA

/// The INI configuration, drop-ins, environment and flags, and their errors.
@Suite struct ConfigurationTests {
    /// A temporary directory with the given files (relative path → text).
    static func directory(_ files: [String: String]) throws -> String {
        let path = TestPaths.temporaryDirectory("ucwa-config")
        for (name, text) in files {
            let file = path + "/" + name
            try FileManager.default.createDirectory(
                atPath: (file as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true
            )
            try text.write(toFile: file, atomically: true, encoding: .utf8)
        }
        return path
    }

    static let example = """
        # the example of DESIGN.md, comments after values included
        [Daemon]
        Account=alice                 # instance name in records; default: the username
        StateDirectory=/var/lib/ucwa-eventd   # $STATE_DIRECTORY wins when set
        LogLevel=info

        [Server]
        DiscoverURL=https://lyncdiscover.contoso.com   # autodiscover root URL
        CAFile=/etc/ucwa-eventd/ca.pem                 # optional extra trust anchors
        AllowInsecureHTTP=no          # http:// is refused unless the host is loopback or this is yes

        [Auth]
        Username=alice@contoso.com
        PasswordFile=/etc/ucwa-eventd/alice.password   # else the systemd credential "password"

        [Application]
        UserAgent=ucwa-eventd/1.0
        Culture=en-US
        DeleteOnStop=no               # keep the application so a restart resumes without loss

        [Events]
        TimeoutSeconds=180            # server long-poll timeout, 180-1800
        ResolveConcurrency=8

        [Output]
        Sink=stdout                   # stdout | journald
        Events=participant-invitations   # participant-invitations | invitations | all
        """

    @Test func theDesignExampleParsesWithItsComments() throws {
        let directory = try Self.directory(["ucwa-eventd.conf": Self.example])
        let configuration = try ConfigurationLoader.load(path: directory + "/ucwa-eventd.conf", environment: [:])
        #expect(configuration.account == "alice")
        #expect(configuration.discoverURL == "https://lyncdiscover.contoso.com")
        #expect(configuration.caFile == "/etc/ucwa-eventd/ca.pem")
        #expect(configuration.allowInsecureHTTP == false)
        #expect(configuration.username == "alice@contoso.com")
        #expect(configuration.passwordFile == "/etc/ucwa-eventd/alice.password")
        #expect(configuration.timeoutSeconds == 180 && configuration.resolveConcurrency == 8)
        #expect(configuration.sink == .stdout && configuration.events == .participantInvitations)
    }

    @Test func dropInsApplyInLexicalOrderThenEnvironmentThenFlags() throws {
        let directory = try Self.directory([
            "main.conf": "[Output]\nSink=stdout\n[Events]\nResolveConcurrency=2\n",
            "main.conf.d/20-late.conf": "[Events]\nResolveConcurrency=20\n",
            "main.conf.d/10-early.conf": "[Events]\nResolveConcurrency=10\nTimeoutSeconds=900\n",
            "main.conf.d/ignored.txt": "this is not a drop-in",
        ])
        let fromFiles = try ConfigurationLoader.load(path: directory + "/main.conf", environment: [:])
        #expect(fromFiles.resolveConcurrency == 20 && fromFiles.timeoutSeconds == 900)
        let environment = [
            "UCWA_EVENTD_EVENTS_RESOLVE_CONCURRENCY": "30", "UCWA_EVENTD_OUTPUT_SINK": "journald",
            "UCWA_EVENTD_SERVER_DISCOVER_URL": "https://lyncdiscover.example.com",
            "UCWA_EVENTD_SERVER_CA_FILE": "/ca.pem",
            "UCWA_EVENTD_SERVER_ALLOW_INSECURE_HTTP": "yes",
        ]
        let withEnvironment = try ConfigurationLoader.load(path: directory + "/main.conf", environment: environment)
        #expect(withEnvironment.resolveConcurrency == 30 && withEnvironment.sink == .journald)
        #expect(
            withEnvironment.discoverURL == "https://lyncdiscover.example.com" && withEnvironment.caFile == "/ca.pem"
        )
        #expect(withEnvironment.allowInsecureHTTP)
        let withFlags = try ConfigurationLoader.load(
            path: directory + "/main.conf",
            environment: environment,
            flags: [("Output", "Sink", "stdout")]
        )
        #expect(withFlags.sink == .stdout)
        let withStateDirectory = try ConfigurationLoader.load(
            path: directory + "/main.conf",
            environment: ["STATE_DIRECTORY": "/var/lib/ucwa-eventd/alice"],
            flags: [("Daemon", "StateDirectory", "/elsewhere")]
        )
        #expect(withStateDirectory.stateDirectory == "/var/lib/ucwa-eventd/alice")
    }

    @Test(arguments: [
        ("[Server]\nDiscoverURL=https://x\n[Nonsense]\n", "main.conf:3: unknown section [Nonsense]"),
        ("[Server]\nDiscoverUrl=https://x\n", "main.conf:2: [Server] DiscoverUrl: unknown key"),
        (
            "[Events]\nTimeoutSeconds=60\n",
            "main.conf:2: [Events] TimeoutSeconds: '60' is not a whole number in 180...1800"
        ),
        (
            "[Server]\nAllowInsecureHTTP=maybe\n",
            "main.conf:2: [Server] AllowInsecureHTTP: 'maybe' is not a boolean (yes or no)"
        ),
        ("[Output]\nSink=syslog\n", "main.conf:2: [Output] Sink: 'syslog' is not one of stdout, journald"),
        ("Sink=stdout\n", "main.conf:1: Sink: a key before any [Section] header"),
        ("[Output]\njust words\n", "main.conf:2: expected Key=Value, a [Section] header or a comment"),
        (
            "[Server]\nDiscoverURL=lyncdiscover.contoso.com\n",
            "main.conf:2: [Server] DiscoverURL: 'lyncdiscover.contoso.com' is not an absolute http(s) URL"
        ),
        (
            "[Auth]\nPasswordFile=relative/path\n",
            "main.conf:2: [Auth] PasswordFile: 'relative/path' is not an absolute path"
        ),
    ])
    func badInputNamesTheFileLineAndKey(text: String, expected: String) throws {
        let directory = try Self.directory(["main.conf": text])
        let error = #expect(throws: ConfigurationError.self) {
            _ = try ConfigurationLoader.load(path: directory + "/main.conf", environment: [:])
        }
        #expect(error?.description == directory + "/" + expected)
    }

    @Test func aBadEnvironmentValueNamesTheVariable() throws {
        let error = #expect(throws: ConfigurationError.self) {
            _ = try ConfigurationLoader.load(path: nil, environment: ["UCWA_EVENTD_EVENTS_TIMEOUT_SECONDS": "5"])
        }
        #expect(
            error?.description
                == "environment variable UCWA_EVENTD_EVENTS_TIMEOUT_SECONDS: [Events] TimeoutSeconds: '5' is not a whole number in 180...1800"
        )
    }

    @Test func windowsLineEndsAreAccepted() throws {
        let directory = try Self.directory([
            "main.conf": "[Output]\r\nSink=journald\r\n[Events]\r\nResolveConcurrency=3\r\n"
        ])
        let configuration = try ConfigurationLoader.load(path: directory + "/main.conf", environment: [:])
        #expect(configuration.sink == .journald && configuration.resolveConcurrency == 3)
    }

    @Test func anExplicitFileMustExistTheDefaultMayNot() throws {
        #expect(throws: ConfigurationError.self) {
            _ = try ConfigurationLoader.load(path: "/nonexistent/ucwa.conf", environment: [:])
        }
        // The default path is absent here: defaults apply.
        if !FileManager.default.fileExists(atPath: ConfigurationLoader.defaultPath) {
            #expect(try ConfigurationLoader.load(path: nil, environment: [:]) == Configuration())
        }
    }

    @Test func thePasswordComesFromTheCredentialDirectoryElseThePasswordFile() throws {
        let directory = try Self.directory([
            "credentials/password": "from-credential\n", "alice.password": "from-file\r\nsecond line",
        ])
        var configuration = Configuration()
        configuration.passwordFile = directory + "/alice.password"
        #expect(try ConfigurationLoader.password(for: configuration, environment: [:]) == "from-file")
        #expect(
            try ConfigurationLoader.password(
                for: configuration,
                environment: ["CREDENTIALS_DIRECTORY": directory + "/credentials"]
            ) == "from-credential"
        )
        configuration.passwordFile = nil
        let error = #expect(throws: ConfigurationError.self) {
            _ = try ConfigurationLoader.password(for: configuration, environment: [:])
        }
        #expect(error?.description.contains("LoadCredential=password") == true)
    }

    @Test func runNeedsAServerAndAUser() {
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader.validateForRun(Configuration()) }
        var configuration = Configuration()
        configuration.discoverURL = "https://x"
        configuration.username = "a@b"
        #expect(throws: Never.self) { try ConfigurationLoader.validateForRun(configuration) }
    }

    @Test func describePrintsEveryKeyUnderItsSection() throws {
        var configuration = Configuration()
        configuration.discoverURL = "https://lyncdiscover.contoso.com"
        let text = ConfigurationLoader.describe(configuration)
        #expect(
            text.contains("[Server]\nDiscoverURL=https://lyncdiscover.contoso.com\n#CAFile=\nAllowInsecureHTTP=no\n")
        )
        #expect(text.contains("[Output]\nSink=stdout\nEvents=participant-invitations\n"))
    }
}
