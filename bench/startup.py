"""How long `orch --help` and `orch --version` take (SPEC: well under half a second).

    python bench/startup.py            # median and worst of 15 runs each
    python bench/startup.py --runs 50

Every command imports its heavy modules lazily; this measures the start-up a user (or a
shell completion, or cron) pays on every call.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def measure(args: list[str], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "orch", *args], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    print(f"{'command':<28}{'median':>10}{'worst':>10}")
    for args in (["--version"], ["--help"], ["task", "--help"], ["tick", "--help"]):
        median, worst = measure(args, runs)
        print(f"{'orch ' + ' '.join(args):<28}{median:>9.3f}s{worst:>9.3f}s")


if __name__ == "__main__":
    main()
