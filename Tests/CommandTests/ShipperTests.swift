import Foundation
import Testing
import UCWATestSupport

@testable import StreamingJSON
@testable import UCWA
@testable import UCWASimulator

#if canImport(Glibc)
import Glibc
#endif

/// The recipes in `contrib/`: rsyslog's and syslog-ng's run for real against the daemon's
/// journal entries and its stdout JSON lines; the others (shippers not packaged by Debian) are
/// parsed and their field names checked against the record contract.
@Suite(.serialized) struct ShipperTests {
    static let contrib = TestPaths.repository.appendingPathComponent("contrib").path

    /// Subjects and other user strings that try to break a shipper's JSON, its syslog framing
    /// or its templates; an empty subject (present, not absent); records without `started`
    /// (no `started_at`, no `duration_ms`). The fifth script's records are larger than
    /// rsyslog's default 8 KiB message.
    static let hostileScripts: [InvitationScript] = [
        InvitationScript(subject: "\"}, \"record_id\": \"forged", outcome: .connected),
        InvitationScript(
            to: "sip:x\"y\\z\n@contoso.com",
            subject: "line\nUCWA_RECORD_ID=forged\nPRIORITY=0\r\n\tMESSAGE=forged",
            outcome: .declined,
            withAlerting: false
        ),
        InvitationScript(
            subject:
                "esc \u{1B}[2J nul \u{0} bell \u{7} del \u{7F} bidi \u{202E}gpj.exe \u{2066}iso\u{2069} ls \u{2028} ps \u{2029}",
            outcome: .cancelled
        ),
        InvitationScript(
            subject:
                "quotes ' \" back \\ \\\\u0041 slash / %msg% %$!% $(format-json --scope all) ${MESSAGE} `id` $(id) ; DROP",
            outcome: .connected,
            withStarted: false
        ),
        InvitationScript(
            to: "sip:" + String(repeating: "𝄞", count: 3000) + "@contoso.com",
            subject: String(repeating: "𝄞é日\\\"", count: 200),
            outcome: .failed(
                code: "RemoteFailure",
                subcode: "Timeout",
                message: String(repeating: "☕ \"\\ ", count: 600)
            ),
            withAlerting: false
        ),
        InvitationScript(
            subject: "Café ☕ 日本語 — Ünïcödé",
            outcome: .failed(
                code: "RemoteFailure",
                subcode: "DestinationNotFound",
                message: "The person is not found."
            ),
            withStarted: false,
            withAlerting: false
        ),
        InvitationScript(subject: "", outcome: .connected, withAlerting: false),
    ]
    /// Played while the shippers are stopped: their restart must pick these up, and only these.
    static let afterRestart = InvitationScript(subject: "after the shippers' restart ✓", outcome: .declined)

    // MARK: rsyslog and syslog-ng, for real

    @Test(
        .enabled(if: PrivateJournal.canRun, "needs root, unshare(1) and /lib/systemd/systemd-journald"),
        .timeLimit(.minutes(5))
    )
    func rsyslogAndSyslogNGShipEveryRecordOnceAsTheDaemonWritesIt() async throws {
        let shippers = try await DebianShippers.install()

        // 1. The reference: the same events through `--sink stdout`.
        let reference = try await StdoutReference.run(Self.hostileScripts, then: Self.afterRestart)
        let firstCount = reference.firstPhase.count
        let all = reference.firstPhase + reference.secondPhase
        #expect(
            all.count == 1 + (Self.hostileScripts + [Self.afterRestart]).map(\.eventCount).reduce(0, +),
            "the opening and one record per event"
        )
        #expect(all.contains { $0.utf8.count > 8192 }, "a record above rsyslog's default message size")

        // 2. The same events into a private journal, the shippers reading it (and the stdout
        // lines of step 1 as a file); stopped and restarted between the two phases.
        let simulator = try await StdoutReference.simulator(port: reference.port)
        let (work, config) = try simulator.runConfiguration(extra: "[Daemon]\nLogLevel=debug\n")
        let pipelines = try shippers.prepare(work: work, recipes: Self.contrib)
        for pipeline in pipelines where pipeline.readsFile {
            try pipeline.appendToInput(reference.firstPhase)
        }
        for script in Self.hostileScripts { await simulator.play(script) }
        let child = try PrivateJournal.spawn(
            body: DebianShippers.body,
            daemonConfig: config,
            work: work,
            environment: shippers.environment(work: work).merging(["DIAGNOSTICS_TO_JOURNAL": "1"]) { $1 }
        )
        // A failure below kills the namespace: journald, the daemon and the shippers with it.
        do {
            let firstEvents = Self.hostileScripts.map(\.eventCount).reduce(0, +)
            try await simulator.waitForAcknowledged(firstEvents)
            for pipeline in pipelines { try await pipeline.waitForLines(firstCount, child: child) }

            try touch(work + "/phase2")
            try await waitForFile(work + "/shippers-stopped", child: child)
            await simulator.play(Self.afterRestart)
            try await simulator.waitForAcknowledged(firstEvents + Self.afterRestart.eventCount)
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
            await simulator.shutdown()
            throw error
        }
        await simulator.shutdown()
        #expect(
            PrivateJournal.daemonStatus(work) == 0,
            "the daemon: \(String(describing: try? String(contentsOfFile: work + "/daemon.err", encoding: .utf8)))"
        )

        // The journal held the daemon's diagnostics too (same SYSLOG_IDENTIFIER): the recipes'
        // filter had something to leave out.
        let journal = try (String(contentsOfFile: work + "/journal.json", encoding: .utf8)).split(separator: "\n").map {
            try JSONValue.parse(String($0))
        }
        #expect(journal.filter { $0["UCWA_SCHEMA_VERSION"] != nil }.count == all.count)
        #expect(
            journal.contains { $0["UCWA_SCHEMA_VERSION"] == nil },
            "no diagnostics in the journal: the filter was not tried"
        )

        let expected = try all.map { try JSONValue.parse($0) }
        // What the journal run observed: its own times, so that nothing is left uncompared.
        let observed = ShippedRecords.withObservations(of: journal, expected)
        // Fluent Bit is not packaged for Debian, but its Lua filter is plain Lua: run it under
        // LuaJIT (the Lua Fluent Bit embeds) on this run's journal entries.
        let lua = try await FluentBitLua.run(
            recipe: "\(Self.contrib)/fluent-bit/ucwa-eventd.yaml",
            entries: journal,
            work: work
        )
        let luaProblems = ShippedRecords.problems(shipped: lua, expected: observed)
        #expect(
            luaProblems.isEmpty,
            "Fluent Bit's Lua filter (under LuaJIT): \(luaProblems.count) problems:\n\(luaProblems.prefix(20).joined(separator: "\n"))"
        )
        for pipeline in pipelines {
            let problems = ShippedRecords.problems(
                shipped: pipeline.records(),
                expected: pipeline.readsFile ? expected : observed
            )
            #expect(
                problems.isEmpty,
                "\(pipeline.name): \(problems.count) problems:\n\(problems.prefix(20).joined(separator: "\n"))\n--- its log:\n\(pipeline.log())"
            )
        }
    }

    // MARK: The recipes that cannot run here

    /// Vector, Fluent Bit, Filebeat and the OpenTelemetry Collector are not packaged for
    /// Debian: their recipes are parsed (Python's tomllib and PyYAML) and checked for what makes
    /// them correct without a running shipper: the field names they use exist in the record
    /// contract, they keep records only, type the three numbers, keep a resume cursor and say
    /// how to de-duplicate on record_id.
    @Test func theUntestedRecipesParseAndUseOnlyContractFields() async throws {
        let contract = try RecordContract.load()
        for recipe in UntestedRecipe.all {
            let path = "\(Self.contrib)/\(recipe.file)"
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let parsed = try await recipe.parse(path)
            var problems = recipe.check(parsed)
            problems += contract.unknownNames(in: text, recordKeys: recipe.recordKeys)
            for needed in ["UCWA_SCHEMA_VERSION", "record_id", "sequence", "duration_ms", "schema_version"]
            where !text.contains(needed) {
                problems.append("never mentions \(needed)")
            }
            // The daemon's stdout files are read from /var/log/ucwa-eventd/*.jsonl: writing
            // records there would read them back, over and over.
            if text.contains("/var/log/ucwa-eventd/records") || text.contains("path: /var/log/ucwa-eventd\n") {
                problems.append("writes its output where it reads the daemon's stdout files")
            }
            #expect(problems.isEmpty, "contrib/\(recipe.file):\n\(problems.joined(separator: "\n"))")
        }
    }

    /// The tested recipes too name only contract fields (the run above shows they are right
    /// for today's fields; this keeps a misspelt future field from hiding in them).
    @Test func theTestedRecipesUseOnlyContractFields() throws {
        let contract = try RecordContract.load()
        for (file, keys) in [
            ("rsyslog/ucwa-eventd.conf", #"\$\.name == "([a-z_]+)""#),
            ("syslog-ng/ucwa-eventd.conf", #"\.ucwa\.([a-z_]+)"#),
        ] {
            let text = try String(contentsOfFile: "\(Self.contrib)/\(file)", encoding: .utf8)
            let problems = contract.unknownNames(in: text, recordKeys: [keys])
            #expect(problems.isEmpty, "contrib/\(file):\n\(problems.joined(separator: "\n"))")
        }
    }

    private func touch(_ path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else { throw POSIXError(.EIO) }
    }

    private func waitForFile(_ path: String, child: ChildProcess) async throws {
        try await waitUntil("\(path); the journal script says: \(child.stderr)", timeout: .seconds(30)) {
            FileManager.default.fileExists(atPath: path)
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
    ///
    /// The same port again (the journal run) can stay busy for a while after the first
    /// simulator closed it: a connection of the first run that the kernel still holds on that
    /// port (FIN_WAIT, up to `tcp_fin_timeout`, 60 s) makes the bind fail even with
    /// SO_REUSEADDR. That port is waited for up to 90 s instead of failing the test.
    static func simulator(port: Int? = nil) async throws -> UCWASimulator {
        var lastError: (any Error)?
        let deadline = ContinuousClock.now + (port == nil ? .seconds(2) : .seconds(90))
        let start = ContinuousClock.now
        while ContinuousClock.now < deadline {
            do {
                let simulator = try await UCWASimulator.start(port: port ?? Int.random(in: 20000..<30000))
                if let port, ContinuousClock.now - start > .seconds(1) {
                    print("ShipperTests: port \(port) was busy for \(ContinuousClock.now - start) after the first run")
                }
                return simulator
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        throw ShipperSetupError(
            "no simulator on port \(port.map(String.init) ?? "20000-29999"): \(lastError.map { "\($0)" } ?? "")"
        )
    }

    static func run(_ scripts: [InvitationScript], then later: InvitationScript) async throws -> StdoutReference {
        let simulator = try await Self.simulator()
        let (directory, config) = try simulator.runConfiguration()
        // Queued before the daemon starts: the same batches (and record ids) in every run.
        for script in scripts { await simulator.play(script) }
        let daemon = try ChildProcess(
            [TestPaths.binary("ucwa-eventd"), "run", "--config", config],
            directory: directory
        )
        let firstEvents = scripts.map(\.eventCount).reduce(0, +)
        try await simulator.waitForAcknowledged(firstEvents)
        let first = daemon.stdout.split(separator: "\n").map(String.init)
        await simulator.play(later)
        try await simulator.waitForAcknowledged(firstEvents + later.eventCount)
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0, "\(daemon.stderr)")
        let all = daemon.stdout.split(separator: "\n").map(String.init)
        await simulator.shutdown()
        return StdoutReference(firstPhase: first, secondPhase: Array(all.dropFirst(first.count)), port: simulator.port)
    }
}

/// Compares a shipper's output with the daemon's stdout records: each record once (by
/// `record_id`), the same keys, the same JSON types, the same values.
enum ShippedRecords {
    /// The reference records with the times the journal run observed: `started_at` and
    /// `duration_ms` from its entry's fields, `timestamp` from `UCWA_TIMESTAMP` or else the
    /// entry's `__REALTIME_TIMESTAMP` (what the recipes use). The rest of a record does not
    /// depend on when it was made.
    static func withObservations(of journal: [JSONValue], _ records: [JSONValue]) -> [JSONValue] {
        var entries: [String: JSONValue] = [:]
        for entry in journal {
            if let id = entry["UCWA_RECORD_ID"]?.stringValue { entries[id] = entry }
        }
        return records.map { record in
            guard let members = record.objectValue, let id = record["record_id"]?.stringValue, let entry = entries[id]
            else { return record }
            return .object(
                members.map { member in
                    var member = member
                    switch member.key {
                    case "timestamp":
                        let micros = Int64(entry["__REALTIME_TIMESTAMP"]?.stringValue ?? "") ?? 0
                        member.value = .string(
                            entry["UCWA_TIMESTAMP"]?.stringValue ?? Timestamp.rfc3339(microseconds: micros)
                        )
                    case "started_at":
                        member.value = entry["UCWA_STARTED_AT"] ?? .null
                    case "duration_ms":
                        member.value = entry["UCWA_DURATION_MS"]?.stringValue.map { .number($0) } ?? .null
                    default:
                        break
                    }
                    return member
                }
            )
        }
    }

    static func problems(shipped lines: [String], expected: [JSONValue]) -> [String] {
        var problems: [String] = []
        var byID: [String: [[String: JSONValue]]] = [:]
        for (number, line) in lines.enumerated() {
            guard let value = try? JSONValue.parse(line), let members = value.objectValue else {
                problems.append("line \(number + 1) is not a JSON object: \(line.prefix(200))")
                continue
            }
            let object = Dictionary(members.map { ($0.key, $0.value) }) { first, _ in first }
            if object.count != members.count {
                problems.append("line \(number + 1) repeats a key: \(line.prefix(200))")
            }
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
                    problems.append(
                        "\(id): \(key) is a \(kind(value)) (\(value)), the record has a \(kind(wanted)) (\(wanted))"
                    )
                    continue
                }
                if value != wanted {
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
}

/// Debian's rsyslog and syslog-ng (and LuaJIT, for Fluent Bit's Lua filter). The two
/// shippers conflict (both provide `system-log-daemon`), so whichever is not installed is
/// unpacked with `apt-get download` and `dpkg-deb -x` into `.build/<triple>/shippers` (its
/// library dependencies are installed with apt) and run from there: never as the machine's
/// logger, no maintainer scripts, no systemd.
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
        # Another apt (a parallel test elsewhere) may hold the lock for a while: wait for it.
        apt_install() {
          apt-get -o DPkg::Lock::Timeout=120 install -y -qq "$@" ||
            { apt-get -o DPkg::Lock::Timeout=120 update -qq && apt-get -o DPkg::Lock::Timeout=120 install -y -qq "$@"; }
        }
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
        installed luajit || apt_install luajit >&2
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
        let child = try ChildProcess(
            ["/bin/sh", "-c", installScript, "install", cache],
            directory: TestPaths.temporaryDirectory()
        )
        let status = (try? await child.wait(timeout: .seconds(300))) ?? -1
        var found: [String: String] = [:]
        for line in child.stdout.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            found[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard status == 0, let rsyslogd = found["rsyslogd"], let syslogNG = found["syslogNG"] else {
            throw ShipperSetupError(
                "installing rsyslog and syslog-ng failed (exit \(status)):\n\(child.stderr.suffix(3000))"
            )
        }
        return DebianShippers(
            rsyslogd: rsyslogd,
            rsyslogModules: found["rsyslogModules"] ?? "",
            syslogNG: syslogNG,
            syslogNGModules: found["syslogNGModules"] ?? "",
            syslogNGLibraries: found["syslogNGLibraries"] ?? ""
        )
    }

    func environment(work: String) -> [String: String] {
        [
            "RSYSLOGD": rsyslogd, "RSYSLOG_MODULES": rsyslogModules, "SYSLOGNG": syslogNG,
            "SYSLOGNG_MODULES": syslogNGModules, "SYSLOGNG_LIBRARIES": syslogNGLibraries,
        ]
    }

    /// The recipes as shipped, with their paths moved into `work/<shipper>/`, and a main
    /// configuration that includes each (as /etc/rsyslog.conf and /etc/syslog-ng/syslog-ng.conf
    /// include /etc/rsyslog.d and /etc/syslog-ng/conf.d).
    func prepare(work: String, recipes: String) throws -> [Pipeline] {
        for (shipper, main, moves) in [
            (
                "rsyslog", "global(workDirectory=\"\(work)/rsyslog\")\ninclude(file=\"\(work)/rsyslog/recipe.conf\")\n",
                ["/var/lib/rsyslog/", "/var/log/ucwa-records/"]
            ),
            // Debian's syslog-ng.conf has `source s_src { system(); internal(); };`, and system()
            // is the journal under systemd: the recipe reads s_src (syslog-ng allows one
            // systemd-journal() source), so this stands in for Debian's file.
            (
                "syslog-ng",
                "@version: 3.38\nsource s_src { systemd-journal(); internal(); };\n@include \"\(work)/syslog-ng/recipe.conf\"\n",
                ["/var/log/ucwa-records/"]
            ),
        ] {
            let directory = "\(work)/\(shipper)"
            try FileManager.default.createDirectory(atPath: directory + "/in", withIntermediateDirectories: true)
            var recipe = try String(contentsOfFile: "\(recipes)/\(shipper)/ucwa-eventd.conf", encoding: .utf8)
            // The daemon's stdout files into <shipper>/in/, everything else into <shipper>/.
            recipe = recipe.replacingOccurrences(of: "/var/log/ucwa-eventd/", with: directory + "/in/")
                .replacingOccurrences(of: "\"/var/log/ucwa-eventd\"", with: "\"\(directory)/in\"")
            for path in moves { recipe = recipe.replacingOccurrences(of: path, with: directory + "/") }
            let stray = recipe.split(separator: "\n").filter {
                !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") && $0.contains("/var/")
            }
            guard stray.isEmpty else {
                throw ShipperSetupError("\(shipper)'s recipe has paths the test does not move: \(stray)")
            }
            try recipe.write(toFile: directory + "/recipe.conf", atomically: true, encoding: .utf8)
            try main.write(toFile: directory + "/main.conf", atomically: true, encoding: .utf8)
            _ = FileManager.default.createFile(atPath: directory + "/in/alice.jsonl", contents: nil)
        }
        return [
            Pipeline(
                name: "rsyslog imjournal",
                directory: work + "/rsyslog",
                outputFile: "records.jsonl",
                readsFile: false
            ),
            Pipeline(
                name: "rsyslog imfile + mmjsonparse",
                directory: work + "/rsyslog",
                outputFile: "records-from-file.jsonl",
                readsFile: true
            ),
            Pipeline(
                name: "syslog-ng systemd-journal()",
                directory: work + "/syslog-ng",
                outputFile: "records.jsonl",
                readsFile: false
            ),
            Pipeline(
                name: "syslog-ng file() + json-parser()",
                directory: work + "/syslog-ng",
                outputFile: "records-from-file.jsonl",
                readsFile: true
            ),
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
        /// Reads `in/alice.jsonl` (the daemon's stdout lines) rather than the journal.
        var readsFile: Bool

        func appendToInput(_ lines: [String]) throws {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/in/alice.jsonl"))
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(lines.map { $0 + "\n" }.joined().utf8))
        }

        /// The output's lines, empty ones included (syslog-ng writes an empty line for a record
        /// whose template failed).
        func records() -> [String] {
            var lines = ((try? String(contentsOfFile: directory + "/" + outputFile, encoding: .utf8)) ?? "")
                .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }
            return lines
        }

        func log() -> String {
            String(((try? String(contentsOfFile: directory + "/log", encoding: .utf8)) ?? "").suffix(3000))
        }

        func waitForLines(_ count: Int, child: ChildProcess) async throws {
            try await waitUntil(
                "\(count) records from \(name), which wrote \(records().count).\n--- its log:\n\(log())\n--- the journal script:\n\(child.stderr)",
                timeout: .seconds(30),
                poll: .milliseconds(50)
            ) { records().count >= count }
        }
    }
}

struct ShipperSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The record contract's names: journald fields (`UCWA_*`) and JSON keys, from the code
/// (`Record.forEachField` in Sources/UCWA/Records/Record.swift) and from DESIGN.md §3, which also names
/// the fields being added (`UCWA_TIMESTAMP`, `UCWA_EVENT_TYPE`, `on_behalf_of`, …).
struct RecordContract {
    var journalFields: Set<String>
    var keys: Set<String>

    static func load() throws -> RecordContract {
        let code = try String(
            contentsOf: TestPaths.repository.appendingPathComponent("Sources/UCWA/Records/Record.swift"),
            encoding: .utf8
        )
        let designPath = TestPaths.shared.appendingPathComponent("DESIGN.md")
        guard let design = try? String(contentsOf: designPath, encoding: .utf8) else {
            throw ShipperSetupError("no DESIGN.md at \(designPath.path) (set UCWA_SHARED)")
        }
        // §3's records: from its "### Records" heading to the next heading.
        let records =
            design.components(separatedBy: "### Records").dropFirst().first?.components(separatedBy: "\n### ").first
            ?? ""
        var fields = Set(matches(#"UCWA_[A-Z0-9_]*[A-Z0-9]"#, in: code + records, group: 0))
        fields.formUnion(["MESSAGE", "PRIORITY", "MESSAGE_ID", "SYSLOG_IDENTIFIER"])
        var keys = Set(matches(#"(?:body|add)\("([a-z_]+)""#, in: code, group: 1))
        for line in records.split(separator: "\n") where line.hasPrefix("| `") {
            let firstCell = line.split(separator: "|").first.map(String.init) ?? ""
            keys.formUnion(matches(#"`([a-z_]+)`"#, in: firstCell, group: 1))
        }
        // journald carries every key as UCWA_<KEY> (DESIGN.md §3: "the same fields in
        // journald"; its table abbreviates some with "…"), but level and message, which are
        // PRIORITY and MESSAGE.
        fields.formUnion(keys.subtracting(["level", "message"]).map { "UCWA_" + $0.uppercased() })
        guard fields.count > 20, keys.count > 20, keys.contains("record_id"), fields.contains("UCWA_RECORD_ID") else {
            throw ShipperSetupError(
                "could not read the record contract: fields \(fields.sorted()), keys \(keys.sorted())"
            )
        }
        return RecordContract(journalFields: fields, keys: keys)
    }

    /// Every `UCWA_*` name in `text` that is no contract field (a bare `UCWA_` prefix or a
    /// `UCWA_*`/`UCWA_<NAME>` pattern is no name), and every record key that the
    /// `recordKeys` patterns (group 1) find in `text` that is no contract key.
    func unknownNames(in text: String, recordKeys: [String]) -> [String] {
        var problems: [String] = []
        for name in Set(Self.matches(#"UCWA_[A-Z0-9_]*[A-Z0-9]"#, in: text, group: 0)).sorted()
        where !journalFields.contains(name) {
            problems.append("\(name) is no journald field of the record contract")
        }
        // A recipe may also name a journald field lower-cased on its way to a key (`event`
        // for UCWA_EVENT before it becomes event_type).
        let lowered = Set(journalFields.filter { $0.hasPrefix("UCWA_") }.map { $0.dropFirst(5).lowercased() })
        for pattern in recordKeys {
            for key in Set(Self.matches(pattern, in: text, group: 1)).sorted()
            where !keys.contains(key) && !lowered.contains(key) {
                problems.append("\(key) is no record key of the contract")
            }
        }
        return problems
    }

    static func matches(_ pattern: String, in text: String, group: Int) -> [String] {
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return [] }
        let range = NSRange(text.startIndex..., in: text)
        return expression.matches(in: text, range: range).compactMap { match in
            Range(match.range(at: group), in: text).map { String(text[$0]) }
        }
    }
}

/// A recipe for a shipper that is not installable here: how to parse it and what to check in
/// the parsed document.
struct UntestedRecipe: Sendable {
    var file: String
    /// Patterns whose group 1 is a record key the recipe writes or reads.
    var recordKeys: [String]
    var check: @Sendable (JSONValue) -> [String]

    static let all: [UntestedRecipe] = [
        UntestedRecipe(file: "vector/ucwa-eventd.toml", recordKeys: [#"record\.([a-z_]+)"#]) { document in
            var problems: [String] = []
            let journal = document["sources"]?["ucwa_journal"]
            if journal?["type"]?.stringValue != "journald" {
                problems.append("sources.ucwa_journal is not a journald source")
            }
            if journal?["current_boot_only"] != .bool(false) {
                problems.append(
                    "current_boot_only is not false: a restart after a reboot would skip the previous boot's backlog"
                )
            }
            if journal?["data_dir"]?.stringValue == nil {
                problems.append("no data_dir: the journal cursor is not kept")
            }
            let transforms = document["transforms"]?.objectValue ?? []
            if !transforms.contains(where: {
                $0.value["type"]?.stringValue == "remap"
                    && $0.value["source"]?.stringValue?.contains("UCWA_SCHEMA_VERSION") == true
            }) {
                problems.append("no remap keeps records only (UCWA_SCHEMA_VERSION)")
            }
            if !transforms.contains(where: {
                $0.value["type"]?.stringValue == "dedupe"
                    && $0.value["fields"]?["match"] == .array([.string("record_id")])
            }) {
                problems.append("no dedupe transform on record_id")
            }
            return problems + UntestedRecipe.inputsExist(document, sections: ["sources", "transforms", "sinks"])
        },
        UntestedRecipe(
            file: "fluent-bit/ucwa-eventd.yaml",
            recordKeys: [#"record\["([a-z_]+)"\]"#, #"name == "([a-z_]+)""#]
        ) { document in
            var problems: [String] = []
            let inputs = document["pipeline"]?["inputs"]?.arrayValue ?? []
            guard let systemd = inputs.first(where: { $0["name"]?.stringValue == "systemd" }) else {
                return ["no systemd input"]
            }
            if systemd["db"]?.stringValue == nil {
                problems.append("the systemd input has no db: the journal cursor is not kept")
            }
            if systemd["read_from_tail"] != .bool(false) && systemd["read_from_tail"]?.stringValue != "off" {
                problems.append("read_from_tail is not off")
            }
            let filters = document["pipeline"]?["filters"]?.arrayValue ?? []
            guard let lua = filters.first(where: { $0["name"]?.stringValue == "lua" }) else {
                return problems + ["no lua filter"]
            }
            let integers = Set((lua["type_int_key"]?.stringValue ?? "").split(separator: " ").map(String.init))
            if integers != ["sequence", "duration_ms", "schema_version"] {
                problems.append("type_int_key is \(integers.sorted())")
            }
            if let call = lua["call"]?.stringValue, lua["code"]?.stringValue?.contains("function \(call)(") != true {
                problems.append("the lua code defines no function \(call)")
            }
            if lua["code"]?.stringValue?.contains("UCWA_SCHEMA_VERSION") != true {
                problems.append("the lua filter does not keep records only")
            }
            return problems
        },
        UntestedRecipe(
            file: "filebeat/ucwa-eventd.yml",
            recordKeys: [#"(?:\{|, )([a-z_]+): true"#, #"event\.(?:Put|Get)\("([a-z_]+)""#]
        ) { document in
            var problems: [String] = []
            let inputs = document["filebeat.inputs"]?.arrayValue ?? []
            guard let journald = inputs.first(where: { $0["type"]?.stringValue == "journald" }) else {
                return ["no journald input"]
            }
            if journald["id"]?.stringValue == nil {
                problems.append("the journald input has no id: its cursor is not kept in the registry")
            }
            if journald["seek"]?.stringValue != "cursor" { problems.append("seek is not cursor") }
            let processors = journald["processors"]?.arrayValue ?? []
            if !processors.contains(where: {
                $0["drop_event"]?["when.not.has_fields"] == .array([.string("journald.custom.ucwa_schema_version")])
            }) {
                problems.append("no drop_event keeps records only")
            }
            if !processors.contains(where: { $0["script"]?["source"]?.stringValue?.contains("@metadata._id") == true })
            {
                problems.append("record_id is not the document id")
            }
            return problems
        },
        UntestedRecipe(
            file: "otel-collector/ucwa-eventd.yaml",
            recordKeys: [#"attributes\["([a-z_]+)"\]"#]
        ) { document in
            var problems: [String] = []
            guard let journald = document["receivers"]?["journald/ucwa"] else { return ["no journald/ucwa receiver"] }
            if journald["start_at"]?.stringValue != "beginning" {
                problems.append("start_at is not beginning: the backlog is skipped")
            }
            if journald["all"] != .bool(true) {
                problems.append("all is not true: long fields arrive as blob placeholders")
            }
            let storage = journald["storage"]?.stringValue ?? ""
            if document["extensions"]?[storage] == nil {
                problems.append("storage \(storage) is no extension: the cursor is not kept")
            }
            if !(document["service"]?["extensions"]?.arrayValue ?? []).contains(.string(storage)) {
                problems.append("\(storage) is not enabled in service.extensions")
            }
            let filter = document["processors"]?["filter/ucwa_records"]?["logs"]?["log_record"]?.arrayValue ?? []
            if !filter.contains(where: { $0.stringValue?.contains("UCWA_SCHEMA_VERSION") == true }) {
                problems.append("the filter does not keep records only")
            }
            let statements =
                (document["processors"]?["transform/ucwa_journal"]?["log_statements"]?[0]?["statements"]?.arrayValue
                ?? []).compactMap(\.stringValue)
            for key in ["sequence", "duration_ms", "schema_version"]
            where !statements.contains(where: { $0.contains("attributes[\"\(key)\"], Int(") }) {
                problems.append("\(key) is not made an integer")
            }
            if !statements.contains(where: { $0.hasPrefix("set(severity_number") }) {
                problems.append("no severity from PRIORITY")
            }
            if statements.last != "set(body, body[\"MESSAGE\"])" {
                problems.append("the body does not become MESSAGE last")
            }
            return problems + UntestedRecipe.pipelinesExist(document)
        },
    ]

    /// `python3` parses the file (tomllib for TOML, PyYAML for YAML) and prints it as JSON.
    func parse(_ path: String) async throws -> JSONValue {
        let loader =
            file.hasSuffix(".toml")
            ? "import tomllib; d = tomllib.load(open(p, 'rb'))" : "import yaml; d = yaml.safe_load(open(p))"
        let script = "import json, sys; p = sys.argv[1]; \(loader); print(json.dumps(d))"
        let child = try ChildProcess(
            ["/usr/bin/python3", "-c", script, path],
            directory: TestPaths.temporaryDirectory()
        )
        let status = try await child.wait()
        guard status == 0 else { throw ShipperSetupError("\(file) does not parse:\n\(child.stderr)") }
        return try JSONValue.parse(child.stdout)
    }

    /// Every `inputs` entry of a Vector component names a component that exists.
    static func inputsExist(_ document: JSONValue, sections: [String]) -> [String] {
        let names = Set(sections.flatMap { (document[$0]?.objectValue ?? []).map(\.key) })
        return sections.flatMap { section in
            (document[section]?.objectValue ?? []).flatMap { component in
                (component.value["inputs"]?.arrayValue ?? []).compactMap(\.stringValue).filter { !names.contains($0) }
                    .map { "\(section).\(component.key) reads \($0), which does not exist" }
            }
        }
    }

    /// Every receiver, processor and exporter a collector pipeline names is defined.
    static func pipelinesExist(_ document: JSONValue) -> [String] {
        (document["service"]?["pipelines"]?.objectValue ?? []).flatMap { pipeline in
            ["receivers", "processors", "exporters"].flatMap { kind in
                (pipeline.value[kind]?.arrayValue ?? []).compactMap(\.stringValue).filter { document[kind]?[$0] == nil }
                    .map { "pipeline \(pipeline.key) names \(kind) \($0), which is not defined" }
            }
        }
    }
}

/// Fluent Bit's `lua` filter from the recipe, run under LuaJIT as Fluent Bit would call it:
/// each journal entry as a table of its fields (strings), the time as `{sec, nsec}`
/// (`time_as_table`), the return code honoured (-1 drops, 1 and 2 keep), the `type_int_key`
/// fields written as integers when the script made them numbers. The output is one JSON object
/// per kept record.
enum FluentBitLua {
    static func run(recipe: String, entries: [JSONValue], work: String) async throws -> [String] {
        let filter = try await UntestedRecipe(file: "fluent-bit/ucwa-eventd.yaml", recordKeys: []) { _ in [] }.parse(
            recipe
        )["pipeline"]?["filters"]?
        .arrayValue?.first { $0["name"]?.stringValue == "lua" }
        guard let code = filter?["code"]?.stringValue, let call = filter?["call"]?.stringValue else {
            throw ShipperSetupError("no lua filter with code and call in \(recipe)")
        }
        let integers = (filter?["type_int_key"]?.stringValue ?? "").split(separator: " ").map {
            "[\(literal(String($0)))] = true"
        }
        var lua =
            code + """

                local ucwa_integers = { \(integers.joined(separator: ", ")) }
                local function ucwa_quote(text)
                  return '"' .. string.gsub(text, '[%c"\\\\]', function(c) return string.format('\\\\u%04x', string.byte(c)) end) .. '"'
                end
                local function ucwa_encode(record)
                  local parts = {}
                  for key, value in pairs(record) do
                    local encoded
                    if type(value) == "number" and ucwa_integers[key] then encoded = string.format("%d", value)
                    elseif type(value) == "number" then encoded = tostring(value)
                    else encoded = ucwa_quote(tostring(value)) end
                    parts[#parts + 1] = ucwa_quote(key) .. ":" .. encoded
                  end
                  return "{" .. table.concat(parts, ",") .. "}"
                end
                local function ucwa_feed(ts, record)
                  local code, _, out = \(call)("ucwa.journal", ts, record)
                  if code == 1 or code == 2 then print(ucwa_encode(out))
                  elseif code ~= -1 and code ~= 0 then error("return code " .. tostring(code)) end
                end

                """
        for entry in entries {
            let micros = Int(entry["__REALTIME_TIMESTAMP"]?.stringValue ?? "") ?? 0
            let fields = (entry.objectValue ?? []).compactMap { member in
                member.value.stringValue.map { "[\(literal(member.key))] = \(literal($0))" }
            }
            lua +=
                "ucwa_feed({ sec = \(micros / 1_000_000), nsec = \(micros % 1_000_000 * 1000) }, { \(fields.joined(separator: ", ")) })\n"
        }
        try lua.write(toFile: work + "/fluent-bit-filter.lua", atomically: true, encoding: .utf8)
        let child = try ChildProcess(["/usr/bin/luajit", work + "/fluent-bit-filter.lua"], directory: work)
        guard try await child.wait() == 0 else {
            throw ShipperSetupError("the Lua filter failed under LuaJIT:\n\(child.stderr)")
        }
        return child.stdout.split(separator: "\n").map(String.init)
    }

    /// A Lua string literal for any bytes: letters, digits and spaces as they are, every other
    /// byte as a decimal escape.
    static func literal(_ text: String) -> String {
        var out = "\""
        for byte in text.utf8 {
            if (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x20 || byte == 0x5F
            {
                out.append(Character(Unicode.Scalar(byte)))
            } else {
                out += "\\" + String(format: "%03d", byte)
            }
        }
        return out + "\""
    }
}
