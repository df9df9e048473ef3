"""How fast an input change reaches flexems' entities, in a real Home Assistant core with the real
add-on on loopback: a battery's state of charge jumps off the plan, and we wait until the
planned energy sensor shows a plan made from the new state. Also a burst of changes within the
debounce time, which must make one plan, not one each.

Runs Home Assistant's test harness (a real core in this process) through pytest:

    .venv/bin/python bench/replan_latency.py [--changes 20]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=20)
    args = parser.parse_args()
    case = Path(__file__).with_name("replan_latency_case.py")
    env = {**os.environ, "FLEXEMS_BENCH_CHANGES": str(args.changes)}
    return subprocess.call(
        [sys.executable, "-m", "pytest", str(case), "-q", "-s", "-p", "no:cacheprovider",
         "--no-cov", "-o", "addopts=", "-o", "log_level=WARNING"],
        env=env, cwd=case.parents[1],
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
