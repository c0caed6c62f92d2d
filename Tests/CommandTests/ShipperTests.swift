import Foundation
import StreamingJSON
import Testing
import UCWA
import UCWASimulator

#if canImport(Glibc)
import Glibc
#endif

/// The recipes in `contrib/`: rsyslog's and syslog-ng's run for real against the daemon's
/// journal entries and its stdout JSON lines; the others (shippers not packaged by Debian) are
/// parsed and their field names checked against the record contract.
@Suite(.serialized) struct ShipperTests {
    static let contrib = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("contrib").path

    /// Subjects and other user strings that try to break a shipper's JSON, its syslog framing
    /// or its templates. The last two records are larger than rsyslog's default 8 KiB message.
    static let hostileScripts: [InvitationScript] = [
        InvitationScript(subject: "\"}, \"record_id\": \"forged", outcome: .connected),
        InvitationScript(to: "sip:x\"y\\z\n@contoso.com", subject: "line\nUCWA_RECORD_ID=forged\nPRIORITY=0\r\n\tMESSAGE=forged",
                         outcome: .declined, withAlerting: false),
        InvitationScript(subject: "esc \u{1B}[2J nul \u{0} bell \u{7} del \u{7F} bidi \u{202E}gpj.exe \u{2066}iso\u{2069} ls \u{2028} ps \u{2029}",
                         outcome: .cancelled),
        InvitationScript(subject: "quotes ' \" back \\ \\\\u0041 slash / %msg% %$!% $(format-json --scope all) ${MESSAGE} `id` $(id) ; DROP",
                         outcome: .connected, withStarted: false),
        InvitationScript(to: "sip:" + String(repeating: "𝄞", count: 3000) + "@contoso.com",
                         subject: String(repeating: "𝄞é日\\\"", count: 200),
                         outcome: .failed(code: "RemoteFailure", subcode: "Timeout", message: String(repeating: "☕ \"\\ ", count: 600)),
                         withAlerting: false),
        InvitationScript(subject: "Café ☕ 日本語 — Ünïcödé", outcome: .failed(code: "RemoteFailure", subcode: "DestinationNotFound",
                                                                          message: "The person is not found."),
                         withStarted: false, withAlerting: false),
        InvitationScript(subject: "", outcome: .connected, withAlerting: false),
    ]
    /// Played while the shippers are stopped: their restart must pick these up, and only these.
    static let afterRestart = InvitationScript(subject: "after the shippers' restart ✓", outcome: .declined)

    // MARK: rsyslog and syslog-ng, for real

    @Test(.enabled(if: PrivateJournal.canRun, "needs root, unshare(1) and /lib/systemd/systemd-journald"),
          .timeLimit(.minutes(3)))
    func rsyslogAndSyslogNGShipEveryRecordOnceAsTheDaemonWritesIt() async throws {
        let shippers = try await DebianShippers.install()

        // 1. The reference: the same events through `--sink stdout`.
        let reference = try await StdoutReference.run(Self.hostileScripts, then: Self.afterRestart)
        let firstCount = reference.firstPhase.count
        let all = reference.firstPhase + reference.secondPhase
        #expect(all.count == 1 + (Self.hostileScripts + [Self.afterRestart]).map(\.eventCount).reduce(0, +),
                "the opening and one record per event")
        #expect(all.contains { $0.utf8.count > 8192 }, "a record above rsyslog's default message size")

        // 2. The same events into a private journal, the shippers reading it (and the stdout
        // lines of step 1 as a file); stopped and restarted between the two phases.
        let simulator = try await StdoutReference.simulator(port: reference.port)
        defer { Task { await simulator.shutdown() } }
        let (work, config) = try RunCommandTests.setUp(simulator, extra: "[Daemon]\nLogLevel=debug\n")
        let pipelines = try shippers.prepare(work: work, recipes: Self.contrib)
        for pipeline in pipelines where pipeline.readsFile {
            try pipeline.appendToInput(reference.firstPhase)
        }
        for script in Self.hostileScripts { await simulator.play(script) }
        let child = try PrivateJournal.spawn(body: DebianShippers.body, daemonConfig: config, work: work,
                                             environment: shippers.environment(work: work).merging(["DIAGNOSTICS_TO_JOURNAL": "1"]) { $1 })
        // A failure below kills the namespace: journald, the daemon and the shippers with it.
        do {
            let firstEvents = Self.hostileScripts.map(\.eventCount).reduce(0, +)
            try await RunCommandTests.waitForAcknowledged(firstEvents, simulator)
            for pipeline in pipelines { try await pipeline.waitForLines(firstCount, child: child) }

            try touch(work + "/phase2")
            try await waitForFile(work + "/shippers-stopped", child: child)
            await simulator.play(Self.afterRestart)
            try await RunCommandTests.waitForAcknowledged(firstEvents + Self.afterRestart.eventCount, simulator)
            for pipeline in pipelines where pipeline.readsFile {
                try pipeline.appendToInput(reference.secondPhase)
            }
            try touch(work + "/restart")
            for pipeline in pipelines { try await pipeline.waitForLines(all.count, child: child) }
            try touch(work + "/stop")
            #expect(try await child.wait(timeout: .seconds(30)) == 0, "the journal script: \(child.stderr)")
        } catch {
            child.signal(SIGKILL)
            _ = try? await child.wait()
            throw error
        }
        #expect(PrivateJournal.daemonStatus(work) == 0, "the daemon: \(String(describing: try? String(contentsOfFile: work + "/daemon.err", encoding: .utf8)))")

        // The journal held the daemon's diagnostics too (same SYSLOG_IDENTIFIER): the recipes'
        // filter had something to leave out.
        let journal = try (String(contentsOfFile: work + "/journal.json", encoding: .utf8)).split(separator: "\n").map { try JSONValue.parse(String($0)) }
        #expect(journal.filter { $0["UCWA_SCHEMA_VERSION"] != nil }.count == all.count)
        #expect(journal.contains { $0["UCWA_SCHEMA_VERSION"] == nil }, "no diagnostics in the journal: the filter was not tried")

        let expected = try all.map { try JSONValue.parse($0) }
        for pipeline in pipelines {
            let problems = ShippedRecords.problems(shipped: pipeline.records(), expected: expected,
                                                   timesAreFromThisRun: pipeline.readsFile)
            #expect(problems.isEmpty, "\(pipeline.name): \(problems.count) problems:\n\(problems.prefix(20).joined(separator: "\n"))\n--- its log:\n\(pipeline.log())")
        }
    }

    private func touch(_ path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else { throw POSIXError(.EIO) }
    }

    private func waitForFile(_ path: String, child: ChildProcess) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !FileManager.default.fileExists(atPath: path) {
            guard ContinuousClock.now < deadline else {
                Issue.record("\(path) did not appear within 30 s; the journal script says: \(child.stderr)")
                throw POSIXError(.ETIMEDOUT)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// The records the daemon writes to stdout for the same events: the reference the shippers'
/// output is compared with. The simulator's port is kept, so that a second simulator on the
/// same port gives the same hrefs and therefore the same `record_id`s.
struct StdoutReference {
    var firstPhase: [String]
    var secondPhase: [String]
    var port: Int

    /// A simulator on `port`, or (nil) on a port below Linux's ephemeral range (32768–60999),
    /// where no client connection of a test running in parallel can hold it; a port that is
    /// busy is retried a few times.
    static func simulator(port: Int? = nil) async throws -> UCWASimulator {
        var lastError: (any Error)?
        for _ in 0..<20 {
            do {
                return try await UCWASimulator.start(port: port ?? Int.random(in: 20000..<30000))
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        throw ShipperSetupError("no simulator on port \(port.map(String.init) ?? "20000-29999"): \(lastError.map { "\($0)" } ?? "")")
    }

    static func run(_ scripts: [InvitationScript], then later: InvitationScript) async throws -> StdoutReference {
        let simulator = try await Self.simulator()
        let (directory, config) = try RunCommandTests.setUp(simulator)
        // Queued before the daemon starts: the same batches (and record ids) in every run.
        for script in scripts { await simulator.play(script) }
        let daemon = try ChildProcess([TestPaths.binary("ucwa-eventd"), "run", "--config", config], directory: directory)
        let firstEvents = scripts.map(\.eventCount).reduce(0, +)
        try await RunCommandTests.waitForAcknowledged(firstEvents, simulator)
        let first = daemon.stdout.split(separator: "\n").map(String.init)
        await simulator.play(later)
        try await RunCommandTests.waitForAcknowledged(firstEvents + later.eventCount, simulator)
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0, "\(daemon.stderr)")
        let all = daemon.stdout.split(separator: "\n").map(String.init)
        await simulator.shutdown()
        return StdoutReference(firstPhase: first, secondPhase: Array(all.dropFirst(first.count)), port: simulator.port)
    }
}

/// Compares a shipper's output with the daemon's stdout records: each record once (by
/// `record_id`), the same keys, the same JSON types, the same values. `timestamp`,
/// `started_at` and `duration_ms` are observation times: when the shipper's records come from
/// another run than the reference, they are only checked for their form.
enum ShippedRecords {
    static let observationKeys: Set<String> = ["timestamp", "started_at", "duration_ms"]

    static func problems(shipped lines: [String], expected: [JSONValue], timesAreFromThisRun: Bool) -> [String] {
        var problems: [String] = []
        var byID: [String: [[String: JSONValue]]] = [:]
        for (number, line) in lines.enumerated() {
            guard let value = try? JSONValue.parse(line), let members = value.objectValue else {
                problems.append("line \(number + 1) is not a JSON object: \(line.prefix(200))")
                continue
            }
            let object = Dictionary(members.map { ($0.key, $0.value) }) { first, _ in first }
            if object.count != members.count { problems.append("line \(number + 1) repeats a key: \(line.prefix(200))") }
            guard let id = object["record_id"]?.stringValue else {
                problems.append("line \(number + 1) has no record_id: \(line.prefix(200))")
                continue
            }
            byID[id, default: []].append(object)
        }
        var expectedIDs: Set<String> = []
        for record in expected {
            let members = record.objectValue ?? []
            let want = Dictionary(members.map { ($0.key, $0.value) }) { first, _ in first }
            let id = want["record_id"]?.stringValue ?? "?"
            expectedIDs.insert(id)
            guard let copies = byID[id], let got = copies.first else {
                problems.append("\(id) (\(want["event_name"]?.stringValue ?? "?")) was not shipped")
                continue
            }
            if copies.count > 1 { problems.append("\(id) was shipped \(copies.count) times") }
            let missing = Set(want.keys).subtracting(got.keys).sorted()
            let extra = Set(got.keys).subtracting(want.keys).sorted()
            if !missing.isEmpty { problems.append("\(id): keys missing: \(missing)") }
            if !extra.isEmpty { problems.append("\(id): keys not in the record: \(extra)") }
            for (key, wanted) in want.sorted(by: { $0.key < $1.key }) {
                guard let value = got[key] else { continue }
                guard kind(value) == kind(wanted) else {
                    problems.append("\(id): \(key) is a \(kind(value)) (\(value)), the record has a \(kind(wanted)) (\(wanted))")
                    continue
                }
                if !timesAreFromThisRun && observationKeys.contains(key) {
                    if key != "duration_ms", !isRFC3339Microseconds(value.stringValue ?? "") {
                        problems.append("\(id): \(key) \(value) is not RFC 3339 UTC with microseconds")
                    }
                } else if value != wanted {
                    problems.append("\(id): \(key) is \(value), the record has \(wanted)")
                }
            }
        }
        for id in Set(byID.keys).subtracting(expectedIDs).sorted() {
            problems.append("\(id) was shipped but is not a record of this run: \(byID[id]!.first!)")
        }
        return problems
    }

    static func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "bool"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// `2026-11-27T06:32:09.312005Z`.
    static func isRFC3339Microseconds(_ text: String) -> Bool {
        let shape = Array("dddd-dd-ddTdd:dd:dd.ddddddZ")
        let chars = Array(text)
        guard chars.count == shape.count else { return false }
        return zip(chars, shape).allSatisfy { char, want in want == "d" ? char.isASCII && char.isNumber : char == want }
    }
}

/// Debian's rsyslog and syslog-ng. The two packages conflict (both provide
/// `system-log-daemon`), so whichever is not installed is unpacked with `apt-get download`
/// and `dpkg-deb -x` into `.build/<triple>/shippers` (its library dependencies are installed
/// with apt) and run from there: never as the machine's logger, no maintainer scripts, no
/// systemd.
struct DebianShippers {
    var rsyslogd: String
    /// `-M <dir>` for an unpacked rsyslog (its modules are not in the default place).
    var rsyslogModules: String
    var syslogNG: String
    var syslogNGModules: String
    var syslogNGLibraries: String

    static let cache = URL(fileURLWithPath: TestPaths.binary("ucwa-eventd")).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shippers").path

    static let installScript = #"""
        set -e
        CACHE="$1"
        ROOT="$CACHE/root"
        export DEBIAN_FRONTEND=noninteractive
        installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
        apt_install() { apt-get install -y -qq "$@" || { apt-get update -qq && apt-get install -y -qq "$@"; }; }
        unpack() {
          [ -e "$CACHE/$1.unpacked" ] && return 0
          mkdir -p "$CACHE/debs" && cd "$CACHE/debs"
          rm -f "$1"_*.deb
          apt-get download -q -o APT::Sandbox::User=root "$1" || { apt-get update -qq && apt-get download -q -o APT::Sandbox::User=root "$1"; }
          deb=$(ls "$1"_*.deb | head -n 1)
          missing=""
          for dep in $(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/:any//' -e 's/[[:space:]]//g'); do
            installed "$dep" || missing="$missing $dep"
          done
          if [ -n "$missing" ]; then apt_install $missing; fi
          dpkg-deb -x "$deb" "$ROOT"
          touch "$CACHE/$1.unpacked"
        }
        if installed rsyslog; then
          echo "rsyslogd=/usr/sbin/rsyslogd"; echo "rsyslogModules="
        else
          unpack rsyslog >&2
          echo "rsyslogd=$ROOT/usr/sbin/rsyslogd"; echo "rsyslogModules=-M $(dirname "$(find "$ROOT" -name imjournal.so | head -n 1)")"
        fi
        if installed syslog-ng-core; then
          echo "syslogNG=/usr/sbin/syslog-ng"; echo "syslogNGModules="; echo "syslogNGLibraries="
        else
          unpack syslog-ng-core >&2
          echo "syslogNG=$ROOT/usr/sbin/syslog-ng"
          echo "syslogNGModules=--module-path $(dirname "$(find "$ROOT" -name libsdjournal.so | head -n 1)")"
          echo "syslogNGLibraries=$ROOT/usr/lib/syslog-ng"
        fi
        """#

    static func install() async throws -> DebianShippers {
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        let child = try ChildProcess(["/bin/sh", "-c", installScript, "install", cache], directory: cache)
        let status = (try? await child.wait(timeout: .seconds(300))) ?? -1
        var found: [String: String] = [:]
        for line in child.stdout.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            found[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard status == 0, let rsyslogd = found["rsyslogd"], let syslogNG = found["syslogNG"] else {
            throw ShipperSetupError("installing rsyslog and syslog-ng failed (exit \(status)):\n\(child.stderr.suffix(3000))")
        }
        return DebianShippers(rsyslogd: rsyslogd, rsyslogModules: found["rsyslogModules"] ?? "", syslogNG: syslogNG,
                              syslogNGModules: found["syslogNGModules"] ?? "", syslogNGLibraries: found["syslogNGLibraries"] ?? "")
    }

    func environment(work: String) -> [String: String] {
        ["RSYSLOGD": rsyslogd, "RSYSLOG_MODULES": rsyslogModules, "SYSLOGNG": syslogNG,
         "SYSLOGNG_MODULES": syslogNGModules, "SYSLOGNG_LIBRARIES": syslogNGLibraries]
    }

    /// The recipes as shipped, with their paths moved into `work/<shipper>/`, and a main
    /// configuration that includes each (as /etc/rsyslog.conf and /etc/syslog-ng/syslog-ng.conf
    /// include /etc/rsyslog.d and /etc/syslog-ng/conf.d).
    func prepare(work: String, recipes: String) throws -> [Pipeline] {
        for (shipper, main, moves) in [
            ("rsyslog", "global(workDirectory=\"\(work)/rsyslog\")\ninclude(file=\"\(work)/rsyslog/recipe.conf\")\n",
             ["/var/lib/rsyslog/", "/var/log/ucwa-eventd/"]),
            ("syslog-ng", "@version: 3.38\n@include \"\(work)/syslog-ng/recipe.conf\"\n", ["/var/log/ucwa-eventd/"]),
        ] {
            let directory = "\(work)/\(shipper)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            var recipe = try String(contentsOfFile: "\(recipes)/\(shipper)/ucwa-eventd.conf", encoding: .utf8)
            for path in moves { recipe = recipe.replacingOccurrences(of: path, with: directory + "/") }
            let stray = recipe.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") && $0.contains("/var/") }
            guard stray.isEmpty else { throw ShipperSetupError("\(shipper)'s recipe has paths the test does not move: \(stray)") }
            try recipe.write(toFile: directory + "/recipe.conf", atomically: true, encoding: .utf8)
            try main.write(toFile: directory + "/main.conf", atomically: true, encoding: .utf8)
            _ = FileManager.default.createFile(atPath: directory + "/stdout.jsonl", contents: nil)
        }
        return [
            Pipeline(name: "rsyslog imjournal", directory: work + "/rsyslog", outputFile: "records.jsonl", readsFile: false),
            Pipeline(name: "rsyslog imfile + mmjsonparse", directory: work + "/rsyslog", outputFile: "records-from-file.jsonl", readsFile: true),
            Pipeline(name: "syslog-ng systemd-journal()", directory: work + "/syslog-ng", outputFile: "records.jsonl", readsFile: false),
            Pipeline(name: "syslog-ng file() + json-parser()", directory: work + "/syslog-ng", outputFile: "records-from-file.jsonl", readsFile: true),
        ]
    }

    /// Runs in the private journal's namespace (`PrivateJournal.prologue`): the daemon and both
    /// shippers; the shippers are stopped at `phase2` and started again at `restart`.
    static let body = """
        start_shippers() {
          "$RSYSLOGD" -n -f "$WORK/rsyslog/main.conf" $RSYSLOG_MODULES -i "$WORK/rsyslog/pid" >> "$WORK/rsyslog/log" 2>&1 & R=$!
          LD_LIBRARY_PATH="$SYSLOGNG_LIBRARIES" "$SYSLOGNG" -F --no-caps -f "$WORK/syslog-ng/main.conf" $SYSLOGNG_MODULES \\
            --persist-file "$WORK/syslog-ng/persist" --pidfile "$WORK/syslog-ng/pid" --control "$WORK/syslog-ng/ctl" \\
            >> "$WORK/syslog-ng/log" 2>&1 & S=$!
        }
        stop_shippers() {
          kill -TERM $R $S 2>/dev/null || true
          set +e
          wait $R; echo "rsyslogd exited with $?" >> "$WORK/rsyslog/log"
          wait $S; echo "syslog-ng exited with $?" >> "$WORK/syslog-ng/log"
          set -e
        }
        start_journald
        start_daemon
        start_shippers
        wait_for phase2
        stop_shippers
        touch "$WORK/shippers-stopped"
        wait_for restart
        start_shippers
        wait_for stop
        stop_shippers
        stop_daemon
        dump_journal
        kill $J
        """

    /// One input → output path of one shipper.
    struct Pipeline {
        var name: String
        var directory: String
        var outputFile: String
        /// Reads `stdout.jsonl` (the daemon's stdout lines) rather than the journal.
        var readsFile: Bool

        func appendToInput(_ lines: [String]) throws {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/stdout.jsonl"))
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(lines.map { $0 + "\n" }.joined().utf8))
        }

        func records() -> [String] {
            ((try? String(contentsOfFile: directory + "/" + outputFile, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        func log() -> String {
            String(((try? String(contentsOfFile: directory + "/log", encoding: .utf8)) ?? "").suffix(3000))
        }

        func waitForLines(_ count: Int, child: ChildProcess) async throws {
            let deadline = ContinuousClock.now + .seconds(30)
            while records().count < count {
                guard ContinuousClock.now < deadline else {
                    Issue.record("\(name) wrote \(records().count) of \(count) records within 30 s.\n--- its log:\n\(log())\n--- the journal script:\n\(child.stderr)")
                    throw POSIXError(.ETIMEDOUT)
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }
}

struct ShipperSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
