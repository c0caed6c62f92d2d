#!/usr/bin/env python3
"""`make bench`: every figure side by side with its baseline, in one run, as one table.

Numbers on these shared 2-core machines drift, so each measure runs next to its baseline in the
same run (decoders alternate process by process, the daemon and the Python client drain the same
simulator load one after the other) and the table gives the ratio.

Decoder: one deterministic corpus (~100 MB of batches) and one generated 1 GiB batch, both on
disk (bench-data/), decoded by separate processes that print the same one-line report: ours
(DecoderDriver), JSONSerialization (FoundationDriver), yajl 2 and simdjson On-Demand
(Benchmarks/baselines/). Every driver must report the same event count and cross-check sum,
or the run fails.

Daemon: the release `ucwa-sim` in its own process on loopback, the release daemon writing to
/dev/null (or to a real journald in a private mount namespace), measured from the first batch
formed to the last acknowledgement (the simulator's own clock); CPU and peak RSS from wait4.

Environment: BENCH_QUICK=1 shrinks every load (a smoke run); BENCH_IDLE_SECONDS (60).
"""
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "bench-data")
RELEASE = os.path.join(ROOT, ".build", "release")
BENCH_BUILD = os.path.join(ROOT, ".build-bench", "release")
QUICK = os.environ.get("BENCH_QUICK") == "1"
IDLE_SECONDS = int(os.environ.get("BENCH_IDLE_SECONDS", "10" if QUICK else "60"))
PASSWORD = "correct horse battery staple"
USERNAME = "alice@contoso.com"

rows = []  # (section, measure, ours, baseline, ratio, target, met)


def row(section, measure, ours, baseline="", ratio=None, target="", met=None):
    rows.append((section, measure, ours, baseline, "" if ratio is None else f"{ratio:.2f}×", target,
                 "" if met is None else ("yes" if met else "NO")))


def say(text):
    print(text, file=sys.stderr, flush=True)


# MARK: Decoder


def driver(command):
    """Runs one decoder driver; returns its report (seconds, bytes, events, check, peak_rss_kib)."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def warm_page_cache(path):
    """Reads `path` through, so that it is in the page cache before the timed runs."""
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def decoders():
    corpus = os.path.join(DATA, "corpus-quick.bin" if QUICK else "corpus.bin")
    big = os.path.join(DATA, "batch-64mib.json" if QUICK else "batch-1gib.json")
    ours = os.path.join(BENCH_BUILD, "DecoderDriver")
    if not os.path.exists(corpus):
        subprocess.run([ours, "write-corpus", corpus, "10" if QUICK else "100"], check=True)
    if not os.path.exists(big):
        subprocess.run([ours, "write-batch", big, "64" if QUICK else "1024"], check=True)
    yajl = os.path.join(DATA, "yajl_driver")
    simd = os.path.join(DATA, "simdjson_driver")
    foundation = os.path.join(BENCH_BUILD, "FoundationDriver")
    corpus_runs = {
        "ours 64 KiB": [ours, "ours", "corpus", corpus, "65536", "3"],
        "yajl 64 KiB": [yajl, "corpus", corpus, "65536", "3"],
        "simdjson whole": [simd, "corpus", corpus, "5"],
        "JSONSerialization whole": [foundation, "corpus", corpus, "1"],
        "ours 1 B": [ours, "ours", "corpus", corpus, "1", "1"],
        "yajl 1 B": [yajl, "corpus", corpus, "1", "1"],
    }
    big_runs = {
        "ours 64 KiB": [ours, "ours", "stream", big, "65536"],
        "yajl 64 KiB": [yajl, "stream", big, "65536"],
        "simdjson whole": [simd, "whole", big],
        "ours 1 B": [ours, "ours", "stream", big, "1"],
        "yajl 1 B": [yajl, "stream", big, "1"],
    }
    results = {}
    for label, runs, rounds in (("corpus", corpus_runs, 1 if QUICK else 2), ("1 GiB", big_runs, 1)):
        # Every driver reads the same file: read it once first, so that none of them pays for
        # the disk (the first reader of a cold 1 GiB file spent ~1.5 s of its time in I/O).
        warm_page_cache(corpus if label == "corpus" else big)
        seconds = {name: [] for name in runs}
        reports = {}
        for round_index in range(rounds):
            for name, command in runs.items():  # alternate drivers within each round
                say(f"decoder: {label} {name} (round {round_index + 1}/{rounds})")
                report = driver(command)
                seconds[name] += report["seconds"]
                reports[name] = report
        reference = reports["ours 64 KiB"]
        for name, report in reports.items():
            if (report["events"], report["check"], report["bytes"]) != (reference["events"], reference["check"], reference["bytes"]):
                sys.exit(f"bench: {label}: {name} saw {report['events']} events, check {report['check']}; "
                         f"ours saw {reference['events']}, check {reference['check']}")
        results[label] = {
            name: {"mbps": reports[name]["bytes"] / 1e6 / statistics.median(seconds[name]),
                   "rss": reports[name]["peak_rss_kib"] / 1024, "events": reports[name]["events"],
                   "bytes": reports[name]["bytes"]}
            for name in runs
        }
    c = results["corpus"]
    size = f"{c['ours 64 KiB']['bytes'] / 1e6:.0f} MB"
    section = f"decoder, corpus {size} ({c['ours 64 KiB']['events']} events)"
    mb = lambda r: f"{r['mbps']:.0f} MB/s"
    row(section, "ours, full model, 64 KiB chunks", mb(c["ours 64 KiB"]), "", None, "≥ 600 MB/s", c["ours 64 KiB"]["mbps"] >= 600)
    for baseline, target in (("simdjson whole", 0.5), ("yajl 64 KiB", 2.0), ("JSONSerialization whole", 15.0)):
        ratio = c["ours 64 KiB"]["mbps"] / c[baseline]["mbps"]
        row(section, f"ours 64 KiB vs {baseline}", mb(c["ours 64 KiB"]), f"{baseline}: {mb(c[baseline])}", ratio, f"≥ {target}×", ratio >= target)
    row(section, "ours, full model, 1-byte chunks", mb(c["ours 1 B"]), "", None, "≥ 90 MB/s", c["ours 1 B"]["mbps"] >= 90)
    ratio = c["ours 1 B"]["mbps"] / c["yajl 1 B"]["mbps"]
    row(section, "ours 1 B vs yajl 1 B", mb(c["ours 1 B"]), f"yajl 1 B: {mb(c['yajl 1 B'])}", ratio, "≥ 6×", ratio >= 6)
    g = results["1 GiB"]
    section = f"decoder, one {g['ours 64 KiB']['bytes'] / 2**30:.2f} GiB batch from disk"
    for ours_name, baseline, target in (("ours 64 KiB", "yajl 64 KiB", 2.0), ("ours 64 KiB", "simdjson whole", 0.5), ("ours 1 B", "yajl 1 B", 6.0)):
        ratio = g[ours_name]["mbps"] / g[baseline]["mbps"]
        row(section, f"{ours_name} vs {baseline}", mb(g[ours_name]), f"{baseline}: {mb(g[baseline])}", ratio, f"≥ {target}×", ratio >= target)
    rss = g["ours 64 KiB"]["rss"]
    row(section, "peak RSS, ours 64 KiB (whole process)", f"{rss:.1f} MiB",
        f"yajl {g['yajl 64 KiB']['rss']:.1f} MiB, simdjson {g['simdjson whole']['rss']:.0f} MiB", None, "≤ 16 MiB", rss <= 16)


# MARK: Daemon end to end


class Simulator:
    """`ucwa-sim` in its own process; `drained()` waits for its drain report."""

    def __init__(self, *arguments):
        self.process = subprocess.Popen([os.path.join(RELEASE, "ucwa-sim"), *arguments], stdout=subprocess.PIPE, text=True)
        self.lines = []
        self.url = None
        while self.url is None:
            line = self.process.stdout.readline()
            if not line:
                sys.exit("bench: ucwa-sim exited before printing its DiscoverURL")
            if line.startswith("DiscoverURL="):
                self.url = line.strip().split("=", 1)[1]
        self.drain = None
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            if line.startswith("drained "):
                fields = dict(part.split("=") for part in line.split()[1:])
                self.drain = (int(fields["events"]), float(fields["seconds"]))

    def drained(self, timeout):
        deadline = time.monotonic() + timeout
        while self.drain is None:
            if time.monotonic() > deadline:
                sys.exit(f"bench: the load was not drained within {timeout} s")
            time.sleep(0.02)
        return self.drain

    def stop(self):
        self.process.terminate()
        self.process.wait()


def password_file(work):
    """The simulator's password in `work`, as a credential file; its path."""
    path = os.path.join(work, "password")
    with open(path, "w") as f:
        f.write(PASSWORD + "\n")
    return path


def preloaded_simulator(invitations, link_only=False):
    """A simulator holding `invitations` queued before the client comes, reporting the drain."""
    return Simulator("--preload", str(invitations), "--invitations", "0", "--report-drain", *(["--link-only"] if link_only else []))


def configuration(work, url, sink="stdout", concurrency=8):
    password = password_file(work)
    path = os.path.join(work, "ucwa-eventd.conf")
    with open(path, "w") as f:
        f.write(f"[Daemon]\nAccount=bench\nStateDirectory={work}/state\nLogLevel=warning\n"
                f"[Server]\nDiscoverURL={url}\n[Auth]\nUsername={USERNAME}\nPasswordFile={password}\n"
                f"[Events]\nResolveConcurrency={concurrency}\n[Output]\nSink={sink}\n")
    return path


def peak_rss_mib(pid):
    """The process's own high-water mark (VmHWM); wait4's ru_maxrss would include this Python
    process's peak, which a child inherits across fork and exec."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def stop_and_measure(process):
    """SIGTERM, then wait4: (CPU seconds, peak RSS MiB)."""
    rss = peak_rss_mib(process.pid)
    process.send_signal(signal.SIGTERM)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"bench: the daemon exited with {process.returncode}")
    return usage.ru_utime + usage.ru_stime, rss


def drain_with_daemon(invitations, link_only, concurrency, daemon_path=None):
    """Drains a preloaded simulator with the release daemon (or `daemon_path`, another build):
    (events, seconds, CPU seconds, peak RSS MiB)."""
    with tempfile.TemporaryDirectory() as work:
        simulator = preloaded_simulator(invitations, link_only)
        config = configuration(work, simulator.url, concurrency=concurrency)
        daemon = subprocess.Popen([daemon_path or os.path.join(RELEASE, "ucwa-eventd"), "run", "--config", config],
                                  stdout=subprocess.DEVNULL)
        events, seconds = simulator.drained(300)
        cpu, rss = stop_and_measure(daemon)
        simulator.stop()
        return events, seconds, cpu, rss


def drain_with_python(invitations):
    with tempfile.TemporaryDirectory() as work:
        simulator = preloaded_simulator(invitations, link_only=True)
        client = subprocess.Popen([sys.executable, os.path.join(ROOT, "Benchmarks", "baselines", "naive_client.py"),
                                   simulator.url, USERNAME, password_file(work)], stdout=subprocess.DEVNULL)
        events, seconds = simulator.drained(600)
        rss = peak_rss_mib(client.pid)
        client.send_signal(signal.SIGKILL)
        _, _, usage = os.wait4(client.pid, 0)
        simulator.stop()
        return events, seconds, usage.ru_utime + usage.ru_stime, rss


def get_floor(count):
    """GETs per second of the least a client can do one at a time against the simulator
    (`baselines/get_floor.c`: one kept-alive libcurl handle, the same invitation fetched
    `count` times, the body discarded): the ceiling for ResolveConcurrency=1."""
    import urllib.parse
    sys.path.insert(0, os.path.join(ROOT, "Benchmarks", "baselines"))
    from naive_client import Client
    simulator = preloaded_simulator(50, link_only=True)
    try:
        client = Client(simulator.url)
        _, _, batch = client.request("GET", client.sign_in(USERNAME, PASSWORD, endpoint_id="bench-floor"))
        href = next(event["link"]["href"] for sender in batch["sender"] for event in sender["events"]
                    if event["link"]["rel"] == "participantInvitation")
        result = subprocess.run([os.path.join(DATA, "get_floor"), urllib.parse.urljoin(simulator.url, href),
                                 "Authorization: Bearer " + client.token, str(count)], capture_output=True, text=True, check=True)
        fields = dict(part.split("=") for part in result.stdout.split())
        return int(fields["gets"]) / float(fields["seconds"])
    finally:
        simulator.stop()


JOURNAL_SCRIPT = """
set -e
mkdir -p /run/systemd /run/log /var/log/journal
mount -t tmpfs tmpfs /run/systemd
mount -t tmpfs tmpfs /run/log
mount -t tmpfs tmpfs /var/log/journal
mount --bind "$WORK/journald.conf" /etc/systemd/journald.conf
/usr/bin/time -o "$WORK/journald.rusage" -f '%U %S %M' /lib/systemd/systemd-journald & J=$!
for i in $(seq 1 200); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done
/usr/bin/time -o "$WORK/daemon.rusage" -f '%U %S %M %x' "$DAEMON" run --config "$CONFIG" >/dev/null & D=$!
while [ ! -e "$WORK/stop" ]; do sleep 0.05; done
kill -TERM $(pgrep -P $D) 2>/dev/null || true
wait $D || true
journalctl --sync
journalctl -q --no-pager -o cat SYSLOG_IDENTIFIER=ucwa-eventd | wc -l > "$WORK/entries"
kill -TERM $(pgrep -P $J) 2>/dev/null || true
wait $J || true
"""


def drain_into_journald(invitations):
    if os.geteuid() != 0 or not shutil.which("unshare") or not os.path.exists("/lib/systemd/systemd-journald"):
        return None
    with tempfile.TemporaryDirectory() as work:
        simulator = preloaded_simulator(invitations)
        config = configuration(work, simulator.url, sink="journald")
        with open(os.path.join(work, "journald.conf"), "w") as f:
            f.write("[Journal]\nStorage=volatile\nRateLimitBurst=0\nRateLimitIntervalSec=0\n")
        with open(os.path.join(work, "journal.sh"), "w") as f:
            f.write(JOURNAL_SCRIPT)
        shell = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", os.path.join(work, "journal.sh")],
                                 env={**os.environ, "WORK": work, "CONFIG": config, "DAEMON": os.path.join(RELEASE, "ucwa-eventd")})
        events, seconds = simulator.drained(600)
        open(os.path.join(work, "stop"), "w").close()
        shell.wait(timeout=120)
        simulator.stop()
        user, system, rss, status = open(os.path.join(work, "daemon.rusage")).read().split()[-4:]
        if status != "0":
            sys.exit(f"bench: the daemon (journald sink) exited with {status}")
        j_user, j_system, _ = open(os.path.join(work, "journald.rusage")).read().split()[-3:]
        entries = int(open(os.path.join(work, "entries")).read())
        return events, seconds, float(user) + float(system), int(rss) / 1024, float(j_user) + float(j_system), entries


def latency(invitations):
    """Per record: from the simulator queueing the invitation (its subject carries the
    CLOCK_MONOTONIC time; the long poll is parked, so queueing is the release) to the bench
    reading the record from the daemon's stdout."""
    with tempfile.TemporaryDirectory() as work:
        simulator = Simulator("--invitations", str(invitations), "--interval-ms", "2", "--stamp-subjects")
        config = configuration(work, simulator.url)
        daemon = subprocess.Popen([os.path.join(RELEASE, "ucwa-eventd"), "run", "--config", config], stdout=subprocess.PIPE)
        expected = sum(3 if index % 7 != 6 else 2 for index in range(invitations))
        samples = []
        for line in daemon.stdout:
            now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            record = json.loads(line)
            subject = record.get("subject", "")
            if subject.startswith("t="):
                samples.append((now - int(subject[2:])) / 1e6)
            if len(samples) >= expected:
                break
        stop_and_measure(daemon)
        simulator.stop()
        samples.sort()
        pick = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
        return len(samples), pick(0.5), pick(0.99), samples[-1]


def idle(seconds):
    """A parked long poll for `seconds`: CPU time, context switches (wake-ups) per thread,
    watchdog pings received, RSS. WatchdogSec=20 s: the daemon pings every 10 s.

    libdispatch's own manager thread (named `…-qos.overcommit`) is counted apart: on Linux its
    internal workqueue runs a monitor (`_dispatch_workq_monitor_pools`) on a 1-second timer for
    the life of any process that has used a global queue or Swift concurrency's pool."""
    with tempfile.TemporaryDirectory() as work:
        simulator = Simulator("--invitations", "0")
        config = configuration(work, simulator.url)
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(os.path.join(work, "notify"))
        notify.settimeout(0.2)
        env = {**os.environ, "NOTIFY_SOCKET": os.path.join(work, "notify"), "WATCHDOG_USEC": "20000000"}
        daemon = subprocess.Popen([os.path.join(RELEASE, "ucwa-eventd"), "run", "--config", config], stdout=subprocess.DEVNULL, env=env)

        def sample():
            with open(f"/proc/{daemon.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks = int(fields[11]) + int(fields[12])
            switches = {}
            for task in os.listdir(f"/proc/{daemon.pid}/task"):
                with open(f"/proc/{daemon.pid}/task/{task}/comm") as f:
                    name = f.read().strip()
                with open(f"/proc/{daemon.pid}/task/{task}/status") as f:
                    for line in f:
                        if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                            switches[(task, name)] = switches.get((task, name), 0) + int(line.split()[1])
            return ticks, switches

        def receive_until(deadline):
            count = 0
            while time.monotonic() < deadline:
                try:
                    if b"WATCHDOG=1" in notify.recv(4096):
                        count += 1
                except socket.timeout:
                    pass
            return count

        receive_until(time.monotonic() + 3)  # start-up and the first poll
        ticks0, switches0 = sample()
        pings = receive_until(time.monotonic() + seconds)
        ticks1, switches1 = sample()
        with open(f"/proc/{daemon.pid}/status") as f:
            status = {line.split(":")[0]: line.split(":")[1].strip() for line in f}
        stop_and_measure(daemon)
        simulator.stop()
        # Per thread, so that a thread ending between the samples does not subtract.
        woken = {key: count - switches0.get(key, 0) for key, count in switches1.items()}
        dispatch = sum(count for (_, name), count in woken.items() if name.endswith("qos.overcommit"))
        ours = sum(woken.values()) - dispatch
        kib = lambda key: int(status[key].split()[0]) / 1024
        return (ticks1 - ticks0) / os.sysconf("SC_CLK_TCK"), ours, dispatch, pings, kib("VmRSS"), kib("RssAnon"), len(woken)


def daemon_end_to_end():
    embedded_invitations = 3500 if QUICK else 35000   # ~100 000 events
    get_invitations = 1000 if QUICK else 10500        # ~30 000 events, one GET each
    section = "daemon → /dev/null, embedded resources"
    say("daemon: embedded → /dev/null")
    events, seconds, cpu, rss = drain_with_daemon(embedded_invitations, False, 8)
    rate = events / seconds
    row(section, f"throughput ({events} events)", f"{rate:,.0f} events/s", "", None, "≥ 50 000/s", rate >= 50000)
    row(section, "CPU per 100 000 events; peak RSS", f"{cpu / events * 1e5:.2f} s; {rss:.1f} MiB")
    section = "daemon → /dev/null, a GET per event"
    rates = {}
    for concurrency in (1, 8, 32):
        say(f"daemon: GET per event, concurrency {concurrency}")
        events, seconds, cpu, rss = drain_with_daemon(get_invitations, True, concurrency)
        rates[concurrency] = (events / seconds, cpu / events * 1e5, rss)
        row(section, f"throughput, ResolveConcurrency={concurrency} ({events} events)", f"{events / seconds:,.0f} events/s", "", None,
            "≥ 10 000/s", events / seconds >= 10000)
    row(section, "CPU per 100 000 events; peak RSS (concurrency 8)", f"{rates[8][1]:.2f} s; {rates[8][2]:.1f} MiB")
    say("floor: one GET at a time, minimal C client")
    floor = get_floor(1000 if QUICK else 10000)
    row(section, "concurrency 1 against the floor (a minimal C libcurl client, one GET at a time)",
        f"{rates[1][0]:,.0f} events/s", f"floor: {floor:,.0f} GETs/s", rates[1][0] / floor)
    say("baseline: naive Python client")
    events, seconds, cpu, rss = drain_with_python(get_invitations)
    python_rate, python_cpu = events / seconds, cpu / events * 1e5
    section = "against a plain Python client (stdlib, GET per event)"
    best = max(rates, key=lambda c: rates[c][0])
    row(section, f"throughput, ours at concurrency {best}", f"{rates[best][0]:,.0f} events/s", f"python: {python_rate:,.0f} events/s", rates[best][0] / python_rate)
    row(section, "throughput, ours at concurrency 1", f"{rates[1][0]:,.0f} events/s", f"python: {python_rate:,.0f} events/s", rates[1][0] / python_rate)
    row(section, "CPU per 100 000 events (concurrency 8)", f"{rates[8][1]:.2f} s", f"python: {python_cpu:.2f} s", python_cpu / rates[8][1])
    row(section, "peak RSS", f"{rates[8][2]:.1f} MiB", f"python: {rss:.1f} MiB", rss / rates[8][2])
    say("daemon: embedded → journald")
    journal = drain_into_journald(embedded_invitations // 2)
    section = "daemon → a real journald (private namespace)"
    if journal is None:
        row(section, "not run", "needs root, unshare and systemd-journald")
    else:
        events, seconds, cpu, rss, journald_cpu, entries = journal
        row(section, f"throughput ({events} events, {entries} journal entries)", f"{events / seconds:,.0f} events/s")
        row(section, "CPU per 100 000 events: daemon; journald", f"{cpu / events * 1e5:.2f} s; {journald_cpu / events * 1e5:.2f} s")
    say("daemon: latency")
    count, p50, p99, worst = latency(300 if QUICK else 2000)
    row("daemon latency, release → record (embedded)", f"p50 / p99 / max over {count} records",
        f"{p50:.3f} / {p99:.3f} / {worst:.3f} ms", "", None, "p99 < 2 ms", p99 < 2)
    say(f"daemon: idle {IDLE_SECONDS} s")
    cpu, ours, dispatch, pings, rss, anonymous, threads = idle(IDLE_SECONDS)
    section = f"daemon idle, parked long poll, {IDLE_SECONDS} s (WatchdogSec=20)"
    row(section, "CPU time", f"{cpu * 1000:.0f} ms")
    row(section, f"wake-ups of our {threads - 1} threads; watchdog pings", f"{ours}; {pings}", "", None,
        "only the watchdog's", ours <= 2 * pings + 2)
    row(section, "wake-ups of libdispatch's manager thread (workqueue monitor)", f"{dispatch}", "", None, "", None)
    row(section, "RSS (VmRSS: shared library pages included)", f"{rss:.1f} MiB", "", None, "≤ 12 MiB", rss <= 12)
    row(section, "private anonymous RSS (RssAnon)", f"{anonymous:.1f} MiB")


def print_table():
    headers = ("measure", "ours", "baseline", "ratio", "target", "met")
    body = [r[1:] for r in rows]
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *body)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"\nucwa-eventd bench — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} × {cpu}"
          f"{' (BENCH_QUICK)' if QUICK else ''}")
    print(line(headers))
    print(line("-" * w for w in widths))
    section = None
    for r, cells in zip(rows, body):
        if r[0] != section:
            section = r[0]
            print(f"[{section}]")
        print(line(cells))


if __name__ == "__main__":
    parts = sys.argv[1:] or ["decoder", "daemon"]
    if "decoder" in parts:
        decoders()
    if "daemon" in parts:
        daemon_end_to_end()
    print_table()
