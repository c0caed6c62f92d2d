import SystemCalls
import SystemPackage
import UCWA

#if canImport(Glibc)
import Glibc
#endif

/// Reads the configuration the way operators know from `/etc/systemd/journald.conf`:
/// `[Section]` headers, `Key=Value` lines, `#` and `;` comments (also after a value, when
/// preceded by whitespace, as the example in DESIGN.md writes them), then drop-ins
/// `<file>.d/*.conf` in lexical order, then `UCWA_EVENTD_<SECTION>_<KEY>` environment
/// variables, then command-line flags. Unknown sections and keys and bad values are errors that
/// name the file and line (or the variable) and the key.
package enum ConfigurationLoader {
    package static let defaultPath = "/etc/ucwa-eventd/ucwa-eventd.conf"

    /// `path` nil: the default file, which may be absent. An explicit file must exist.
    package static func load(
        path: String?,
        environment: [String: String],
        flags: [(section: String, name: String, value: String)] = []
    ) throws(ConfigurationError) -> Configuration {
        var configuration = Configuration()
        let file = path ?? defaultPath
        if let text = try readFile(file, required: path != nil) {
            try apply(text, file: file, to: &configuration)
        }
        for dropIn in dropIns(of: file) {
            if let text = try readFile(dropIn, required: true) {
                try apply(text, file: dropIn, to: &configuration)
            }
        }
        for key in ConfigurationKeys.all {
            guard let value = environment[key.environmentName] else { continue }
            try ConfigurationKeys.apply(
                key,
                value,
                to: &configuration,
                source: "environment variable \(key.environmentName)"
            )
        }
        for flag in flags {
            guard let key = ConfigurationKeys.find(section: flag.section, name: flag.name) else { continue }
            try ConfigurationKeys.apply(key, flag.value, to: &configuration, source: "command line")
        }
        if let directory = environment["STATE_DIRECTORY"], !directory.isEmpty {
            // systemd's StateDirectory= wins; with several directories the first is ours.
            configuration.stateDirectory = String(directory.split(separator: ":").first ?? Substring(directory))
        }
        return configuration
    }

    /// Parses one file's text on top of the defaults (the fuzz target's entry point).
    package static func parse(_ text: String, file: String) throws(ConfigurationError) -> Configuration {
        var configuration = Configuration()
        try apply(text, file: file, to: &configuration)
        return configuration
    }

    /// Parses one file's text into `configuration`.
    static func apply(_ text: String, file: String, to configuration: inout Configuration) throws(ConfigurationError) {
        var section: String?
        var lineNumber = 0
        // "\r\n" is one Character in Swift: split on both line ends.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            let line = rawLine.trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            let source = "\(file):\(lineNumber)"
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else {
                    throw ConfigurationError(source: source, message: "a section header must end with ']'")
                }
                let name = String(line.dropFirst().dropLast())
                guard ConfigurationKeys.all.contains(where: { $0.section == name }) else {
                    throw ConfigurationError(source: source, message: "unknown section [\(name)]")
                }
                section = name
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigurationError(source: source, message: "expected Key=Value, a [Section] header or a comment")
            }
            let name = String(line[..<equals].trimmingSpaces)
            let value = String(stripComment(line[line.index(after: equals)...]).trimmingSpaces)
            guard let section else {
                throw ConfigurationError(source: source, key: name, message: "a key before any [Section] header")
            }
            guard let key = ConfigurationKeys.find(section: section, name: name) else {
                throw ConfigurationError(source: source, key: "[\(section)] \(name)", message: "unknown key")
            }
            try ConfigurationKeys.apply(key, value, to: &configuration, source: source)
        }
    }

    /// A `#` or `;` preceded by whitespace starts a comment.
    static func stripComment(_ value: Substring) -> Substring {
        var previous: Character = "="
        for index in value.indices {
            let character = value[index]
            if (character == "#" || character == ";") && (previous == " " || previous == "\t") {
                return value[..<index]
            }
            previous = character
        }
        return value
    }

    static func readFile(_ path: String, required: Bool) throws(ConfigurationError) -> String? {
        let bytes: [UInt8]
        do {
            bytes = try SystemFile.open(path, .readOnly).closeAfter { file throws(SystemCallError) in
                try file.readToEnd(limit: 1 << 20)
            }
        } catch  where error.errno == .noSuchFileOrDirectory && error.call == "open" && !required {
            return nil
        } catch  where error.errno == .fileTooLarge {
            throw ConfigurationError(source: path, message: "larger than 1 MiB; not a configuration file")
        } catch {
            throw ConfigurationError(source: path, message: "cannot read: \(error.errno)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigurationError(source: path, message: "not valid UTF-8")
        }
        return text
    }

    /// `<file>.d/*.conf`, in lexical order.
    static func dropIns(of file: String) -> [String] {
        let directory = file + ".d"
        // No drop-in directory (or an unreadable one) means no drop-ins.
        let names = ((try? PathCalls.entries(ofDirectory: directory)) ?? []).filter {
            $0.hasSuffix(".conf") && !$0.hasPrefix(".")
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }.map { directory + "/" + $0 }
    }

    /// The password: `$CREDENTIALS_DIRECTORY/password` (systemd `LoadCredential=`), else
    /// `PasswordFile=`. Its first line, without the line end.
    package static func password(
        for configuration: Configuration,
        environment: [String: String]
    ) throws(ConfigurationError) -> String {
        var path: String?
        if let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty,
            PathCalls.isAccessible(directory + "/password", R_OK)
        {
            path = directory + "/password"
        } else {
            path = configuration.passwordFile
        }
        guard let path else {
            throw ConfigurationError(
                source: "configuration",
                key: "[Auth] PasswordFile",
                message: "no password: set PasswordFile= or give the unit LoadCredential=password:…"
            )
        }
        guard let text = try readFile(path, required: true) else { return "" }
        let line =
            text.split(maxSplits: 1, omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .first ?? ""
        let password = String(line)
        guard !password.isEmpty else {
            throw ConfigurationError(source: path, key: "[Auth] PasswordFile", message: "the password file is empty")
        }
        return password
    }

    /// What `run` needs beyond syntax: a server, a user, a password source.
    package static func validateForRun(_ configuration: Configuration) throws(ConfigurationError) {
        if configuration.discoverURL == nil {
            throw ConfigurationError(source: "configuration", key: "[Server] DiscoverURL", message: "required")
        }
        if configuration.username == nil {
            throw ConfigurationError(source: "configuration", key: "[Auth] Username", message: "required")
        }
    }

    /// The effective settings as `check-config` prints them (`[Section]` blocks; nothing
    /// secret is part of the configuration, the password stays in its file).
    package static func describe(_ configuration: Configuration) -> String {
        var out = ""
        var section = ""
        for key in ConfigurationKeys.all {
            if key.section != section {
                out += (out.isEmpty ? "" : "\n") + "[\(key.section)]\n"
                section = key.section
            }
            let value = key.display(configuration)
            out += value.map { "\(key.name)=\(UserText.sanitize($0, limit: UserText.uriLimit))\n" } ?? "#\(key.name)=\n"
        }
        return out
    }
}
