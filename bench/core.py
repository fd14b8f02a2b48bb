"""Time the data core (load_events, validate_frame, in_country) on synthetic events.

Usage: ``python -m bench.core [--sizes 1000,10000,100000] [--root DIR]``. With ``--root``, the
``dashboard`` package is imported from DIR instead (another checkout, to compare versions).
Each size runs in a fresh process; times are the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _best(func, repeat: int) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = func()
        best = min(best, time.perf_counter() - start)
    return best, value


def child(path: str, repeat: int) -> dict[str, float]:
    """Timings for one file, in this process."""
    from dashboard import countries, formats, schema

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    countries._places()  # noqa: SLF001 (the cities table and tree, built once per process)
    places = time.perf_counter() - start
    load, dataset = _best(lambda: formats.load_events(path), repeat)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss
    text = Path(path).read_text(encoding="utf-8")
    read, raw = _best(lambda: formats.read_csv_text(text, path), repeat)
    validate, _ = _best(lambda: schema.validate_frame(raw, path), repeat)
    events = dataset.events
    near, _ = _best(lambda: countries.in_country(events["lat"].to_numpy(), events["lon"].to_numpy(),
                                                 events["country"].tolist()), repeat)
    return {"rows": len(events), "problems": len(dataset.problems), "places_s": places,
            "load_events_s": load, "read_csv_text_s": read, "validate_frame_s": validate,
            "in_country_s": near, "load_peak_rss_mb": peak}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--root", default=str(ROOT), help="import dashboard from here")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", help="keep the synthetic files here")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        sys.path.insert(0, args.root)
        print(json.dumps(child(args.child[0], int(args.child[1]))))
        return 0

    sys.path.insert(0, str(ROOT))
    from bench.synthetic import write_synthetic

    folder = Path(args.data_dir or tempfile.mkdtemp(prefix="eventmap-core-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"dashboard from {args.root}")
    print("| events | load_events s | read_csv_text s | validate_frame s | in_country s | "
          "cities table s | load peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for size in (int(s) for s in args.sizes.split(",") if s):
        path = folder / f"events-{size}-seed{args.seed}.csv"
        if not path.exists():
            write_synthetic(size, path, seed=args.seed)
        done = subprocess.run(
            [sys.executable, "-m", "bench.core", "--root", args.root, "--child", str(path),
             str(args.repeat)], cwd=ROOT, capture_output=True, text=True, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"| {size:,} | {r['load_events_s']:.3f} | {r['read_csv_text_s']:.3f} | "
              f"{r['validate_frame_s']:.3f} | {r['in_country_s']:.3f} | {r['places_s']:.3f} | "
              f"{r['load_peak_rss_mb']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
