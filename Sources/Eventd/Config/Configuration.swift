import Logging
import UCWA

/// The daemon's settings (DESIGN.md §3): systemd-style INI, drop-ins, environment overrides,
/// command-line flags. Defaults are what a careful operator would expect.
package struct Configuration: Sendable, Equatable {
    package enum SinkKind: String, Sendable, CaseIterable {
        case stdout
        case journald
    }

    // [Daemon]
    package var account: String?
    package var stateDirectory = "/var/lib/ucwa-eventd"
    package var logLevel: Logger.Level = .info
    // [Server]
    package var discoverURL: String?
    var caFile: String?
    var allowInsecureHTTP = false
    // [Auth]
    package var username: String?
    package var passwordFile: String?
    // [Application]
    var userAgent = "ucwa-eventd/1.0"
    var culture = "en-US"
    var deleteOnStop = false
    // [Events]
    package var timeoutSeconds = 180
    package var resolveConcurrency = 8
    /// Largest event-channel body accepted; a bigger one is refused (and skipped once its
    /// `next` is known). 1 MiB to 1 GiB, default 1 GiB: the decoder's memory stays flat
    /// whatever the size, so a lower default only loses events.
    var maxBatchBytes = 1 << 30
    /// Fetch the name (and uri) of people an invitation links to without one (`from`, `to`,
    /// `acceptedByParticipant`): a GET per person not seen before. Off by default: records
    /// then keep the hrefs (and the address a people href ends in).
    var resolvePeople = false
    // [Output]
    package var sink: SinkKind = .stdout
    package var events: EventFilter = .participantInvitations

    package init() {}

    /// The instance name in records: `Account=`, else the user name.
    var effectiveAccount: String { account ?? username ?? "default" }
}

/// A bad setting: where it came from (file and line, or environment variable, or flag) and
/// what is wrong. Exit code 78.
package struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    var source: String
    var key: String?
    var message: String

    init(source: String, key: String? = nil, message: String) {
        self.source = source
        self.key = key
        self.message = message
    }

    package var description: String {
        "\(source): " + (key.map { "\($0): " } ?? "") + message
    }
}

/// The keys the configuration understands, each with its parser.
enum ConfigurationKeys {
    struct Key: Sendable {
        var section: String
        var name: String
        var apply: @Sendable (inout Configuration, String) throws -> Void
        /// Masked by `check-config` (none is secret today: the password lives in a file).
        var display: @Sendable (Configuration) -> String?

        /// `UCWA_EVENTD_<SECTION>_<KEY>` in upper snake case.
        var environmentName: String {
            "UCWA_EVENTD_" + ConfigurationKeys.snake(section) + "_" + ConfigurationKeys.snake(name)
        }
    }

    struct ConfigurationValueError: Error {
        var message: String
    }

    /// Applies one value; a bad one becomes an error naming `source` and the key.
    static func apply(
        _ key: Key,
        _ value: String,
        to configuration: inout Configuration,
        source: String
    ) throws(ConfigurationError) {
        do {
            try key.apply(&configuration, value)
        } catch {
            let message = (error as? ConfigurationValueError)?.message ?? "\(error)"
            throw ConfigurationError(source: source, key: "[\(key.section)] \(key.name)", message: message)
        }
    }

    static func snake(_ name: String) -> String {
        let characters = Array(name)
        var out = ""
        for (index, character) in characters.enumerated() {
            if index > 0, character.isUppercase {
                let previous = characters[index - 1]
                let next = index + 1 < characters.count ? characters[index + 1] : nil
                if previous.isLowercase || previous.isNumber || (previous.isUppercase && next?.isLowercase == true) {
                    out += "_"
                }
            }
            out += character.uppercased()
        }
        return out
    }

    static func bool(_ text: String) throws(ConfigurationValueError) -> Bool {
        switch text.lowercased() {
        case "yes", "true", "on", "1": return true
        case "no", "false", "off", "0": return false
        default: throw ConfigurationValueError(message: "'\(text)' is not a boolean (yes or no)")
        }
    }

    static func integer(_ text: String, in range: ClosedRange<Int>) throws(ConfigurationValueError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationValueError(
                message: "'\(text)' is not a whole number in \(range.lowerBound)...\(range.upperBound)"
            )
        }
        return value
    }

    static func nonEmpty(_ text: String) throws(ConfigurationValueError) -> String {
        guard !text.isEmpty else { throw ConfigurationValueError(message: "must not be empty") }
        return text
    }

    static func url(_ text: String) throws(ConfigurationValueError) -> String {
        let scheme = Href.scheme(of: text)
        guard scheme == "https" || scheme == "http", Href.host(of: text)?.isEmpty == false else {
            throw ConfigurationValueError(message: "'\(text)' is not an absolute http(s) URL")
        }
        return text
    }

    static func absolutePath(_ text: String) throws(ConfigurationValueError) -> String {
        guard text.hasPrefix("/") else { throw ConfigurationValueError(message: "'\(text)' is not an absolute path") }
        return text
    }

    static func choice<T: RawRepresentable & CaseIterable>(
        _ text: String,
        _: T.Type
    ) throws(ConfigurationValueError) -> T where T.RawValue == String {
        guard let value = T(rawValue: text) else {
            throw ConfigurationValueError(
                message: "'\(text)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        return value
    }

    static let logLevels: [String: Logger.Level] = [
        "trace": .trace, "debug": .debug, "info": .info, "notice": .notice,
        "warning": .warning, "error": .error, "critical": .critical,
    ]

    static let all: [Key] = [
        Key(section: "Daemon", name: "Account", apply: { $0.account = try nonEmpty($1) }, display: { $0.account }),
        Key(
            section: "Daemon",
            name: "StateDirectory",
            apply: { $0.stateDirectory = try absolutePath($1) },
            display: { $0.stateDirectory }
        ),
        Key(
            section: "Daemon",
            name: "LogLevel",
            apply: { configuration, text throws in
                guard let level = logLevels[text.lowercased()] else {
                    throw ConfigurationValueError(
                        message: "'\(text)' is not one of trace, debug, info, notice, warning, error, critical"
                    )
                }
                configuration.logLevel = level
            },
            display: { "\($0.logLevel)" }
        ),
        Key(
            section: "Server",
            name: "DiscoverURL",
            apply: { $0.discoverURL = try url($1) },
            display: { $0.discoverURL }
        ),
        Key(section: "Server", name: "CAFile", apply: { $0.caFile = try absolutePath($1) }, display: { $0.caFile }),
        Key(
            section: "Server",
            name: "AllowInsecureHTTP",
            apply: { $0.allowInsecureHTTP = try bool($1) },
            display: { $0.allowInsecureHTTP ? "yes" : "no" }
        ),
        Key(section: "Auth", name: "Username", apply: { $0.username = try nonEmpty($1) }, display: { $0.username }),
        Key(
            section: "Auth",
            name: "PasswordFile",
            apply: { $0.passwordFile = try absolutePath($1) },
            display: { $0.passwordFile }
        ),
        Key(
            section: "Application",
            name: "UserAgent",
            apply: { configuration, text throws in
                guard !text.isEmpty, text.count <= 100 else {
                    throw ConfigurationValueError(message: "must be 1 to 100 characters")
                }
                configuration.userAgent = text
            },
            display: { $0.userAgent }
        ),
        Key(section: "Application", name: "Culture", apply: { $0.culture = try nonEmpty($1) }, display: { $0.culture }),
        Key(
            section: "Application",
            name: "DeleteOnStop",
            apply: { $0.deleteOnStop = try bool($1) },
            display: { $0.deleteOnStop ? "yes" : "no" }
        ),
        Key(
            section: "Events",
            name: "TimeoutSeconds",
            apply: { $0.timeoutSeconds = try integer($1, in: 180...1800) },
            display: { String($0.timeoutSeconds) }
        ),
        Key(
            section: "Events",
            name: "ResolveConcurrency",
            apply: { $0.resolveConcurrency = try integer($1, in: 1...64) },
            display: { String($0.resolveConcurrency) }
        ),
        Key(
            section: "Events",
            name: "ResolvePeople",
            apply: { $0.resolvePeople = try bool($1) },
            display: { $0.resolvePeople ? "yes" : "no" }
        ),
        Key(
            section: "Events",
            name: "MaxBatchBytes",
            apply: { $0.maxBatchBytes = try integer($1, in: (1 << 20)...(1 << 30)) },
            display: { String($0.maxBatchBytes) }
        ),
        Key(
            section: "Output",
            name: "Sink",
            apply: { $0.sink = try choice($1, Configuration.SinkKind.self) },
            display: { $0.sink.rawValue }
        ),
        Key(
            section: "Output",
            name: "Events",
            apply: { $0.events = try choice($1, EventFilter.self) },
            display: { $0.events.rawValue }
        ),
    ]

    static func find(section: String, name: String) -> Key? {
        all.first { $0.section == section && $0.name == name }
    }
}
