"""How long the command line takes to start, and how much it imports on the way.

Three figures, each from fresh interpreters so that no import is already cached in the process:

- ``lydlogg --help``: wall time of the whole command (interpreter start included), the number of
  modules loaded, and which heavy libraries among them;
- ``lydlogg <command> --help`` for one command of each topic (the group callback runs too);
- ``import lydlogg.settings``: the same figures for loading the settings alone.

The figures measure the source tree this file sits in (it is put first on ``PYTHONPATH``), not
whatever copy of Lydlogg the virtual environment has installed.

    python bench/startup.py [--runs 3] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("duckdb", "pandas", "numpy", "scipy", "pyarrow", "streamlit", "faster_whisper", "torch", "pydantic")

# Runs the snippet, then reports what the interpreter holds; stdout is kept apart from the help text.
PROBE = """
import json, sys
{snippet}
heavy = {heavy!r}
print("\\n@@" + json.dumps({{"modules": len(sys.modules),
                            "heavy": [m for m in heavy if m in sys.modules]}}))
"""

HELP = """
from lydlogg.cli import main
try:
    main({args!r}, standalone_mode=False)
except SystemExit:
    pass
"""

CASES = {
    "lydlogg --help": HELP.format(args=["--help"]),
    "lydlogg ingest --help": HELP.format(args=["ingest", "--help"]),
    "lydlogg users add --help": HELP.format(args=["users", "add", "--help"]),
    "import lydlogg.settings": "import lydlogg.settings",
}


def _env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return dict(os.environ, PYTHONPATH=path)


def wall_times(snippet: str, runs: int) -> list[float]:
    """Seconds for ``python -c snippet`` from process start to exit, ``runs`` times."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", snippet], env=_env(), cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        times.append(time.perf_counter() - start)
    return times


def imports(snippet: str) -> dict:
    """Module count and heavy libraries present after ``snippet`` ran in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", PROBE.format(snippet=snippet, heavy=HEAVY)], env=_env(),
                         cwd=REPO, check=True, capture_output=True, text=True).stdout  # fmt: skip
    return json.loads(out.rsplit("\n@@", 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="Fresh processes per figure (default 3).")
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures here.")
    args = parser.parse_args()
    baseline = statistics.median(wall_times("pass", args.runs))
    rows = {}
    print(f"interpreter start alone: {baseline:.3f} s (median of {args.runs})")
    print(f"{'what':<28} {'median s':>9} {'min s':>7} {'modules':>8}  heavy libraries loaded")
    for name, snippet in CASES.items():
        times = wall_times(snippet, args.runs)
        found = imports(snippet)
        rows[name] = {"seconds": times, "median_s": statistics.median(times), **found}
        print(f"{name:<28} {statistics.median(times):>9.3f} {min(times):>7.3f} {found['modules']:>8}  "
              f"{', '.join(found['heavy']) or '-'}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"interpreter_s": baseline, "runs": rows}, indent=2))


if __name__ == "__main__":
    main()
