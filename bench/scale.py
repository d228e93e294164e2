"""How ccc's time and memory grow with the input: the checked full run (`ccc run`, both
suites, Parquet) at several sizes, interleaved round after round so that the machine's
drift falls on every size alike, and the medians per size as µs per message.

Run from the repository root after a release build (the 200M size is the manual run of
docs/performance.md: 5.3 GB of Parquet, about 2.5 minutes and 17 GiB to generate):

    make bench-scale SCALE_ARGS="--sizes 1m,10m,50m,200m --rounds 2"
    (or: bench/.venv/bin/python bench/scale.py [--sizes ...] [--rounds N])

Sources are generated as bench/run.py does (bench/data/SIZE-parquet, reused when they
match). "Linear" is the bar of issue 15: every size's median time per message within
±25% of the mean of those medians.
"""

from __future__ import annotations

import argparse
import json
import sys

import run as bench

LINEAR_BAND = 0.25


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1m,10m,50m,200m")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--files", type=int, default=8, help="files per table")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    bench.IDLE_WAIT_S = 0
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    sources = {}
    for size in sizes:
        label = bench.size_label(size)
        sources[label] = bench.generate(label, bench.parse_size(size), "parquet", args.seed, args.files)
    # Rounds of every size, several runs of a small size per round so each size's median
    # has about as much weight as the largest size's single run.
    runs: dict[str, list[dict]] = {label: [] for label in sources}
    largest = max(n for _, n in sources.values())
    for round_ in range(args.rounds):
        for label, (folder, messages) in sources.items():
            for _ in range(min(5, max(1, round(largest / messages / 4)))):
                r = bench.undisturbed(bench.run_ccc, folder, bench.OUT / "scale", bench.os.cpu_count(), "enforce")
                runs[label].append(r)
                bench.log(f"round {round_ + 1} {label}: {r['wall_s']:.3f} s, peak {r['peak_rss_mb']:,.0f} MiB, "
                          f"others {r['others_cpu_share'] or 0:.0%}")
    bench.rmtree(bench.OUT / "scale")
    rows = []
    for label, (_, messages) in sources.items():
        wall = bench.median([r["wall_s"] for r in runs[label]])
        rows.append({
            "size": label,
            "messages": messages,
            "runs": len(runs[label]),
            "wall_s": wall,
            "us_per_message": wall / messages * 1e6,
            "peak_rss_mb": bench.median([r["peak_rss_mb"] for r in runs[label]]),
        })
    mean = sum(r["us_per_message"] for r in rows) / len(rows)
    print("| size | messages | runs | median wall s | µs per message | vs mean | peak MiB |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        r["vs_mean"] = r["us_per_message"] / mean
        print(f"| {r['size']} | {r['messages']:,} | {r['runs']} | {r['wall_s']:.3f} | "
              f"{r['us_per_message']:.3f} | {r['vs_mean']:.2f} | {r['peak_rss_mb']:,.0f} |")
    linear = all(abs(r["vs_mean"] - 1) <= LINEAR_BAND for r in rows)
    spread = max(r["us_per_message"] for r in rows) / min(r["us_per_message"] for r in rows)
    print(f"linear (every size within ±{LINEAR_BAND:.0%} of the mean): {'yes' if linear else 'NO'}; "
          f"slowest / fastest per message: {spread:.2f}")
    (bench.BENCH / "scale.json").write_text(json.dumps(rows, indent=2) + "\n")
    return 0 if linear else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
