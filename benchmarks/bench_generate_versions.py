"""Generation speed of several checkouts of ftensor, measured in turn on this machine.

    git worktree add /tmp/ftensor-old <commit>
    .venv/bin/python benchmarks/bench_generate_versions.py /tmp/ftensor-old . --rounds 6

Whether a generator change made generation slower cannot be told from two runs an hour apart on a shared
host (they move by ±15 %): this runs each checkout's own `generate_dataset` in a fresh process, round after
round, alternating checkouts, and prints the median per checkout, on all cores (the `generate` command, as
`bench_data.py` times it) and in one process (per core, no second process sharing the caches), with a hash
of every file the runs on all cores wrote: two checkouts showing the same hash made the same bytes. Square
designs at 256 px, seed 0, the default variety: the one thing every version since spec 1 makes alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from machine import describe

# Run inside each checkout (its own ftensor first on the path); spec-1 versions take no `sizes`.
TIMER = """
import hashlib, inspect, pathlib, shutil, sys, tempfile, time
from ftensor.data.generate import generate_dataset
n, workers = int(sys.argv[1]), int(sys.argv[2])
squares = {"sizes": ((256, 256),)} if "sizes" in inspect.signature(generate_dataset).parameters else {}
warm, out = tempfile.mkdtemp(), tempfile.mkdtemp()
generate_dataset(warm, 16, 256, seed=1, workers=1, progress=False, **squares)  # imports and fonts loaded
shutil.rmtree(warm)
start = time.perf_counter()
generate_dataset(out, n, 256, seed=0, workers=workers, progress=False, **squares)
speed = n / (time.perf_counter() - start)
digest = hashlib.sha256()
for path in sorted(pathlib.Path(out).rglob("*")):
    if path.is_file():
        digest.update(str(path.relative_to(out)).encode() + path.read_bytes())
print(speed, digest.hexdigest()[:12])
shutil.rmtree(out)
"""


def samples_per_second(checkout: Path, num_samples: int, workers: int) -> tuple[float, str]:
    """Samples/s of one run, and a hash of every file it wrote (names and bytes)."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    with tempfile.TemporaryDirectory() as cwd:  # not the caller's directory: its ftensor would come first
        run = subprocess.run(
            [sys.executable, "-c", TIMER, str(num_samples), str(workers)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
        )
    if run.returncode:
        sys.exit(f"{checkout}: {run.stderr.strip().splitlines()[-1]}")
    speed, digest = run.stdout.split()
    return float(speed), digest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkouts", nargs="+", type=Path, help="directories holding an ftensor/ package")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--num_samples", type=int, default=2000, help="per run on all cores (a fifth in one process)")
    args = parser.parse_args()
    checkouts = [path.resolve() for path in args.checkouts]
    for path in checkouts:
        if not (path / "ftensor" / "data" / "generate.py").is_file():
            sys.exit(f"{path} holds no ftensor checkout; make one with `git worktree add {path} <commit>`.")
    cores = os.cpu_count() or 1
    runs: dict[tuple[Path, int], list[float]] = {}
    digests: dict[Path, set[str]] = {}
    for round_ in range(args.rounds):
        for path in checkouts:
            for workers, n in ((cores, args.num_samples), (1, args.num_samples // 5)):
                speed, digest = samples_per_second(path, n, workers)
                runs.setdefault((path, workers), []).append(speed)
                if workers == cores:
                    digests.setdefault(path, set()).add(digest)
        print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr)

    print(f"\n{describe()}\nsquare designs at 256 px; median of {args.rounds} rounds, checkouts run in turn\n")
    print(f"| checkout | samples/s, {cores} cores | per core | samples/s, 1 process | runs on {cores} cores | data |")
    print("|---|---|---|---|---|---|")
    for path in checkouts:
        together, alone = runs[(path, cores)], runs[(path, 1)]
        median = statistics.median(together)
        shown = " ".join(f"{v:.0f}" for v in together)
        data = " ".join(sorted(digests[path]))  # one hash where every run wrote the same bytes
        row = f"{path.name} | {median:.0f} | {median / cores:.0f} | {statistics.median(alone):.0f} | {shown} | {data}"
        print(f"| {row} |")


if __name__ == "__main__":
    main()
