import Foundation
import UCWATestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A private `systemd-journald` for tests, shared by the journald sink's tests and the shipper
/// tests: a shell script run under `unshare --mount --pid` mounts tmpfs over /run/systemd,
/// /run/log and /var/log/journal (so neither the host's journal nor another test's is
/// touched) and its own /proc (journald reads its clients' /proc entries), starts
/// journald, and runs the daemon with `--sink journald` beside it. The caller's `body` is shell
/// code that uses the functions of `prologue`; the Swift side steers it through files in the
/// work directory (`stop`, …). Needs root and unshare.
enum PrivateJournal {
    static let canRun: Bool =
        geteuid() == 0
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")
        && FileManager.default.isExecutableFile(atPath: "/lib/systemd/systemd-journald")

    /// Shell functions for the body. Environment: `DAEMON`, `CONFIG`, `WORK`, and
    /// `DIAGNOSTICS_TO_JOURNAL=1` to send the daemon's diagnostics to the journal.
    /// - `start_journald`: journald in the background (`$J`), returns once its socket exists;
    /// - `start_daemon`: `ucwa-eventd run --sink journald` in the background (`$D`), stdout to
    ///   `daemon.out`, stderr to `daemon.err`;
    /// - `wait_for NAME`: returns once `$WORK/NAME` exists, or the daemon has exited;
    /// - `stop_daemon`: SIGTERM, its exit status into `daemon.status`;
    /// - `dump_journal`: every `SYSLOG_IDENTIFIER=ucwa-eventd` entry as JSON lines into
    ///   `journal.json` (`--all`: fields over 4096 bytes too, not `null`).
    static let prologue = """
        set -e
        mkdir -p /run/systemd /run/log /var/log/journal
        mount -t tmpfs tmpfs /run/systemd
        mount -t tmpfs tmpfs /run/log
        mount -t tmpfs tmpfs /var/log/journal
        start_journald() {
          /lib/systemd/systemd-journald & J=$!
          for i in $(seq 1 200); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done
        }
        start_daemon() {
          : > "$WORK/daemon.err"
          if [ "$DIAGNOSTICS_TO_JOURNAL" = 1 ]; then
            # As systemd does for a unit whose stderr is the journal.
            export JOURNAL_STREAM="$(stat -c '%d:%i' "$WORK/daemon.err")"
          fi
          "$DAEMON" run --config "$CONFIG" --sink journald > "$WORK/daemon.out" 2>> "$WORK/daemon.err" & D=$!
        }
        wait_for() {
          while [ ! -e "$WORK/$1" ] && kill -0 $D 2>/dev/null; do sleep 0.05; done
        }
        stop_daemon() {
          kill -TERM $D 2>/dev/null || true
          set +e
          wait $D
          echo $? > "$WORK/daemon.status"
          set -e
        }
        dump_journal() {
          journalctl --sync
          journalctl -o json --all --no-pager SYSLOG_IDENTIFIER=ucwa-eventd > "$WORK/journal.json"
        }

        """

    /// Starts `prologue` + `body` in a private mount and PID namespace; the script is kept as
    /// `journal.sh` in `work` for a look after a failure. The script is the namespace's first
    /// process: when the returned child (unshare) is killed, the kernel ends every process the
    /// script started (journald, the daemon, shippers), so a failed test leaves none behind.
    static func spawn(
        body: String,
        daemonConfig: String,
        work: String,
        environment: [String: String] = [:]
    ) throws -> ChildProcess {
        try (prologue + body).write(toFile: work + "/journal.sh", atomically: true, encoding: .utf8)
        var merged = ["DAEMON": TestPaths.binary("ucwa-eventd"), "CONFIG": daemonConfig, "WORK": work]
        merged.merge(environment) { _, new in new }
        return try ChildProcess(
            [
                "/usr/bin/unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--kill-child",
                "--mount-proc",
                "/bin/sh", work + "/journal.sh",
            ],
            environment: merged,
            directory: work
        )
    }

    /// The daemon's exit status as `stop_daemon` wrote it (-1 when it did not).
    static func daemonStatus(_ work: String) -> Int32 {
        Int32(
            (try? String(contentsOfFile: work + "/daemon.status", encoding: .utf8))?.trimmingCharacters(
                in: .whitespacesAndNewlines
            ) ?? ""
        ) ?? -1
    }
}
