#!/usr/bin/env python3
"""What a tick costs at 20, 200 and 1000 open tasks, and what a bare `orch` call costs.

Per scale N, a GitHub emulator (tests/emulator, real `gh`, HTTPS on 127.0.0.1) is seeded
in bulk, without API requests: N open tasks, a quarter of them `in_review` with an open
orch PR (`orch/<n>-…`, `Closes #n`), the rest `needs_review`. Then real `orch tick`
subprocesses, with their own ORCH_HOME each:

- cold: the first tick, with an empty state directory (requests, writes, GraphQL points);
- quiet: further ticks with nothing to do, interleaved across the scales (round r ticks
  N=20, then 200, then 1000), medians of the rounds: requests, GraphQL points (the
  emulator scores each query like GitHub's `rateLimit { cost }`), CPU of the tick's whole
  process tree (orch and every gh it ran, from rusage of waited-for children);
- merge: one PR merged on "GitHub" (its issue closed by `Closes #n`): requests of the tick
  that sees it, then of the next one.

Start-up: `orch --version` and `orch task list --help` against `python3 -c pass` on the
same interpreter, interleaved, CPU medians and ratios.

    python bench/tick.py                       # the table (make bench)
    python bench/tick.py --rounds 9 --json
    python bench/tick.py --orch /work/main     # measure another orch checkout (baseline)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.emulator.fixtures import emulator_env, write_orch_config  # noqa: E402
from tests.emulator.server import Emulator, EmulatorServer  # noqa: E402
from tests.helpers import GIT_IDENTITY, make_repo  # noqa: E402

SCALES = (20, 200, 1000)
PREFIX = "orch/"
READS = ("GET",)


@dataclass
class Scale:
    n: int
    server: EmulatorServer
    env: dict[str, str]
    work: Path
    home: Path

    @property
    def emulator(self) -> Emulator:
        return self.server.emulator


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_cpu(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, int]:
    """(CPU seconds of the process and every descendant it waited for, exit code)."""
    before = cpu_of_children()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode not in (0,):
        sys.stderr.write(f"{' '.join(argv)} -> {done.returncode}\n{done.stderr[-2000:]}\n")
    return cpu_of_children() - before, done.returncode


def base_env(home: Path, orch_root: Path) -> dict[str, str]:
    scrub = ("GH_TOKEN", "GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN", "GH_HOST", "GH_REPO")
    env = {k: v for k, v in os.environ.items() if k not in scrub and not k.startswith("XDG_")}
    env.update(GIT_IDENTITY)
    env["ORCH_HOME"] = str(home)
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["PYTHONPATH"] = str(orch_root)
    return env


def seed(emulator: Emulator, n: int) -> None:
    """N open tasks, a quarter in review with an open orch PR each (no API request)."""
    reviewing = n // 4
    numbers = emulator.add_issues(reviewing, ["status:in_review", "agent:codex"])
    emulator.add_issues(n - reviewing, ["status:needs_review"])
    for number in numbers:
        emulator.add_pr(
            f"{PREFIX}{number}-task-{number}",
            f"task {number}",
            f"Closes #{number}\n\n---\nOpened by orch",
        )


def make_scale(n: int, base: Path, orch_root: Path) -> Scale:
    here = base / f"n{n}"
    here.mkdir()
    server = EmulatorServer(here / "tls").start()
    (here / "ghconfig").mkdir()
    (here / "ghtmp").mkdir()
    dirs = {"GH_CONFIG_DIR": str(here / "ghconfig"), "TMPDIR": str(here / "ghtmp")}
    env = emulator_env(server.emulator, dirs, base_env(here / "home", orch_root))
    repo = make_repo(here)
    write_orch_config(repo.work, server.emulator)
    seed(server.emulator, n)
    return Scale(n, server, env, repo.work, here / "home")


def tick(scale: Scale) -> dict[str, Any]:
    emulator = scale.emulator
    emulator.reset_log()
    cpu, code = run_cpu([sys.executable, "-m", "orch", "tick"], scale.env, scale.work)
    requests = list(emulator.requests)
    return {
        "requests": len(requests),
        "writes": sum(1 for r in requests if r.method not in READS and r.path != "/graphql"),
        "points": emulator.graphql_points,
        "cpu": cpu,
        "exit": code,
    }


def merge(scale: Scale) -> tuple[dict[str, Any], dict[str, Any]]:
    """Merge the first orch PR on "GitHub"; the tick that sees it, then the next one."""
    emulator = scale.emulator
    pull = next(p for p in emulator.pulls() if p["state"] == "open")
    emulator.merge_pr(int(pull["number"]))
    return tick(scale), tick(scale)


def startup(orch_root: Path, rounds: int) -> dict[str, float]:
    env = base_env(Path(tempfile.mkdtemp(prefix="orch-bench-home-")), orch_root)
    commands = {
        "python3 -c pass": [sys.executable, "-c", "pass"],
        "orch --version": [sys.executable, "-m", "orch", "--version"],
        "orch task list --help": [sys.executable, "-m", "orch", "task", "list", "--help"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds * 2):
        for name, argv in commands.items():
            times[name].append(run_cpu(argv, env)[0])
    shutil.rmtree(env["ORCH_HOME"], ignore_errors=True)
    return {name: statistics.median(values) for name, values in times.items()}


def median_of(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(row[key] for row in rows)


def measure(orch_root: Path, rounds: int, scales: tuple[int, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"orch": str(orch_root), "scales": {}}
    with tempfile.TemporaryDirectory(prefix="orch-bench-") as tmp:
        runs = [make_scale(n, Path(tmp), orch_root) for n in scales]
        try:
            cold = {s.n: tick(s) for s in runs}
            for s in runs:
                tick(s)  # settle: whatever the cold tick left to do
            quiet: dict[int, list[dict[str, Any]]] = {s.n: [] for s in runs}
            for _ in range(rounds):
                for s in runs:
                    quiet[s.n].append(tick(s))
            merged = {s.n: merge(s) for s in runs}
        finally:
            for s in runs:
                s.server.stop()
    for n in scales:
        rows = quiet[n]
        out["scales"][n] = {
            "cold": cold[n],
            "quiet": {k: median_of(rows, k) for k in ("requests", "points", "cpu", "writes")},
            "merge": merged[n][0],
            "after_merge": merged[n][1],
        }
    out["startup"] = startup(orch_root, rounds)
    return out


def table(result: dict[str, Any]) -> str:
    lines = [f"orch at {result['orch']}", ""]
    head = (
        f"{'open tasks':>10} | {'quiet: req':>10} {'points':>6} {'CPU s':>6} | "
        f"{'cold: req':>9} {'≤ goal':>6} {'writes':>6} {'points':>6} | {'merge req':>9} "
        f"{'then':>4}"
    )
    lines += [head, "-" * len(head)]
    for n, row in result["scales"].items():
        q, c = row["quiet"], row["cold"]
        goal = math.ceil(int(n) / 100) + 1
        lines.append(
            f"{n:>10} | {q['requests']:>10g} {q['points']:>6g} {q['cpu']:>6.2f} | "
            f"{c['requests']:>9} {goal:>6} {c['writes']:>6} {c['points']:>6} | "
            f"{row['merge']['requests']:>9} {row['after_merge']['requests']:>4}"
        )
    scales = result["scales"]
    cpus = [scales[n]["quiet"]["cpu"] for n in scales]
    if len(cpus) > 1 and cpus[0]:
        lines.append(f"quiet tick CPU, largest / smallest scale: {cpus[-1] / cpus[0]:.2f}x")
    start = result["startup"]
    base = start["python3 -c pass"]
    lines.append("")
    for name, cpu in start.items():
        lines.append(f"{name:<24} {cpu:.3f} s CPU  {cpu / base:.1f}x python3 -c pass")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="quiet ticks per scale (median)")
    parser.add_argument("--orch", type=Path, default=ROOT, help="the orch checkout to measure")
    parser.add_argument("--scales", default=",".join(map(str, SCALES)))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    scales = tuple(int(n) for n in args.scales.split(","))
    result = measure(args.orch.resolve(), args.rounds, scales)
    print(json.dumps(result, indent=2, default=str) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
