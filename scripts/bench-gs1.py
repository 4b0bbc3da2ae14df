#!/usr/bin/env python3
"""GS1 parse + validation per element string: Floorgate beside biip, on the same inputs, in one run.

Writes a markdown section for BENCHMARKS.md to stdout. biip (PyPI) is installed into a throwaway
virtual environment here and nowhere else: it is a yardstick, never a dependency of Floorgate.

The corpus: 20,000 scanned element strings with AIM identifiers and GS separators, built from
templates a plant meets (GTIN + expiry + lot + serial, SSCC + content + count, net weight, price,
GIAI, ITIP) with check digits computed, so both parsers read every element. Each side parses
every string in rounds; the two sides take turns (Floorgate, biip, Floorgate, biip, …) so that a
shared machine's drift in speed falls on both alike. The figure is the median round's time per
string over all turns.
"""
import pathlib, random, statistics, subprocess, sys, tempfile, time, venv

BIIP_VERSION = "5.2.0"
TURNS = 4                  # Floorgate runs TURNS + 1 times (9 rounds each, its median kept) …
BIIP_ROUNDS_PER_TURN = 2   # … around TURNS × 2 biip rounds
GS = "\x1d"


def check_digit(digits):
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def corpus(count, seed=20261125):
    rng = random.Random(seed)
    def gtin():
        body = "0429817" + "".join(rng.choice("0123456789") for _ in range(6))
        return body + check_digit(body)
    def text(n):
        return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-") for _ in range(n))
    def date():
        return f"{rng.randint(25, 30):02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    templates = [
        lambda: f"]C101{gtin()}17{date()}10{text(8)}{GS}21{text(10)}",
        lambda: f"]d201{gtin()}21{text(12)}{GS}10{text(6)}",
        lambda: f"]C101{gtin()}3103{rng.randint(0, 999999):06d}",
        lambda: f"]e001{gtin()}3103{rng.randint(0, 999999):06d}3922{rng.randint(0, 99999)}",
        lambda: f"]C100{(lambda b: b + check_digit(b))('3429817' + ''.join(rng.choice('0123456789') for _ in range(10)))}02{gtin()}37{rng.randint(1, 999)}",
        lambda: f"]d28004429817{text(12)}",
        lambda: f"]Q301{gtin()}11{date()}10{text(10)}",
    ]
    return [rng.choice(templates)() for _ in range(count)]


def time_biip(python, corpus_file, rounds):
    """biip.parse over the corpus: one warm-up pass, then `rounds` timed passes (ns per string)."""
    script = r"""
import sys, time, biip
lines = [l.rstrip("\n") for l in open(sys.argv[1], encoding="utf-8") if l.strip("\n")]
for line in lines: biip.parse(line)
for _ in range(int(sys.argv[2])):
    start = time.perf_counter_ns()
    for line in lines: biip.parse(line)
    print((time.perf_counter_ns() - start) / len(lines))
"""
    out = subprocess.run([python, "-c", script, corpus_file, str(rounds)], check=True, capture_output=True, text=True)
    return [float(x) for x in out.stdout.split()]


def time_floorgate(binary, corpus_file):
    """Floorgate's parse over the corpus, 9 timed passes: their p50, min and max (ns per string)
    and the invalid count. The report keeps each run's p50, so Floorgate's min-max spans runs."""
    fields = subprocess.run([binary, corpus_file], check=True, capture_output=True, text=True).stdout.split()
    return [float(fields[1]), float(fields[2]), float(fields[3])], int(fields[7])


def main():
    repository = pathlib.Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        corpus_file = scratch / "gs1-corpus.txt"
        strings = corpus(20000)
        corpus_file.write_text("\n".join(strings) + "\n", encoding="utf-8")

        venv.create(scratch / "venv", with_pip=True)
        python = str(scratch / "venv" / "bin" / "python")
        subprocess.run([python, "-m", "pip", "install", "--quiet", f"biip=={BIIP_VERSION}"], check=True)

        benchmarks = repository / "Benchmarks"
        subprocess.run(["swift", "build", "-c", "release", "--product", "gs1-throughput"], cwd=benchmarks, check=True,
                       stdout=subprocess.DEVNULL)
        binary = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=benchmarks, check=True,
                                capture_output=True, text=True).stdout.strip() + "/gs1-throughput"

        ours, theirs, invalid = [], [], 0
        for _ in range(TURNS):
            medians, invalid = time_floorgate(binary, str(corpus_file))
            ours.append(medians[0])
            theirs += time_biip(python, str(corpus_file), BIIP_ROUNDS_PER_TURN)
        medians, invalid = time_floorgate(binary, str(corpus_file))
        ours.append(medians[0])
    ours_p50, ours_min, ours_max = statistics.median(ours), min(ours), max(ours)
    biip_p50, biip_min, biip_max = statistics.median(theirs), min(theirs), max(theirs)

    print("\n## GS1 parse + validation per element string, beside biip\n")
    print("`python3 scripts/bench-gs1.py` (run by `make bench`): the same 20,000 element strings (AIM id,")
    print("GS separators, computed check digits; 7 templates of plant labels), parsed by Floorgate's")
    print("`ScannedContent(parsing:)` (release build: element split, every linter, requisites, exclusions,")
    print(f"repeats) and by biip {BIIP_VERSION}'s `biip.parse` (installed in a throwaway venv by the script)")
    print("on the same machine in the same run, taking turns; medians over all rounds, min–max beside.\n")
    print("| parser | ns per element string (p50) | min–max | strings/s |")
    print("|---|---:|---:|---:|")
    print(f"| Floorgate | {ours_p50:.0f} | {ours_min:.0f}–{ours_max:.0f} | {1e9 / ours_p50:,.0f} |")
    print(f"| biip {BIIP_VERSION} | {biip_p50:.0f} | {biip_min:.0f}–{biip_max:.0f} | {1e9 / biip_p50:,.0f} |")
    print(f"\n**Floorgate / biip throughput: {biip_p50 / ours_p50:.0f}×** (goal ≥ 100×). Floorgate found {invalid} of")
    print("20,000 strings invalid (expected 0). biip checks less (no requisites, exclusions or linters")
    print("beyond dates), so the ratio understates the work per string Floorgate does.")


if __name__ == "__main__":
    sys.exit(main())
