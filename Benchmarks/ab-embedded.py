#!/usr/bin/env python3
"""Release daemons side by side on `make bench`'s embedded drain, in alternation.

    Benchmarks/ab-embedded.py ROUNDS DAEMON [DAEMON ...]

Each DAEMON is a release `ucwa-eventd` (say, one built in a `git worktree` at another commit).
Every round drains the same load (35 000 preloaded invitations with embedded resources, about
100 000 events; `INVITATIONS=` changes it) once per daemon, in turn, against this checkout's
release `ucwa-sim` (`make release`), through `bench.py`'s own drain (`drain_with_daemon`). It
prints each drain and then, per daemon, the median, least and most CPU seconds per 100 000
events: the machine's speed drifts for minutes at a time, so only builds measured in the same
rounds compare.
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

if len(sys.argv) < 3 or not sys.argv[1].isdigit():
    sys.exit("usage: " + __doc__.strip().splitlines()[2].strip())
rounds, daemons = int(sys.argv[1]), sys.argv[2:]
for daemon in daemons:
    if not os.access(daemon, os.X_OK):
        sys.exit(f"ab-embedded: {daemon}: not an executable")
invitations = int(os.environ.get("INVITATIONS", "35000"))
cpu_per_100k = {daemon: [] for daemon in daemons}
for _ in range(rounds):
    for daemon in daemons:
        events, seconds, cpu, _ = bench.drain_with_daemon(invitations, False, 8, daemon)
        cpu_per_100k[daemon].append(cpu / events * 100_000)
        print(f"{daemon}: {events} events, {events / seconds:,.0f} events/s, "
              f"{cpu_per_100k[daemon][-1]:.3f} s CPU per 100 000 events", flush=True)
for daemon, values in cpu_per_100k.items():
    print(f"{daemon}: median {statistics.median(values):.3f} s ({min(values):.3f}–{max(values):.3f}) over {len(values)}")
