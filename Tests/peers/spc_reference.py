#!/usr/bin/env python3
"""An independent computation of a point's SPC, for Floorgate's tests to check against.

Reads {"subgroups": [[x, ...], ...], "lower": x|null, "upper": x|null, "baseline": n|null} on
standard input and prints the chart, its limits, the points that trip tests 1-4 and the
capability indices as JSON. It shares nothing with Floorgate's code: the bias factors d2 and d3
are integrated numerically from the normal distribution, c4 comes from the gamma function, the
means and deviations from Python's statistics module, and the tests for special causes are
checked window by window (the record counts runs as it goes).
"""
import json
import math
import statistics
import sys

NORMAL = statistics.NormalDist()


def grid(step):
    count = int(16 / step)
    return [-8 + step * (i + 0.5) for i in range(count)]


def d2(n, step=0.0005):
    """E[range of n standard normals] = integral of 1 - F(x)^n - (1 - F(x))^n."""
    return sum(1 - NORMAL.cdf(x) ** n - (1 - NORMAL.cdf(x)) ** n for x in grid(step)) * step


def d3(n, step=0.02):
    """The standard deviation of that range: E[R^2] = 2 * double integral over x < y of
    1 - F(y)^n - (1 - F(x))^n + (F(y) - F(x))^n."""
    points = grid(step)
    cdf = [NORMAL.cdf(x) for x in points]
    second = 0.0
    for i, fx in enumerate(cdf):
        tail = (1 - fx) ** n
        for fy in cdf[i + 1:]:
            second += 1 - fy ** n - tail + (fy - fx) ** n
        # the diagonal cell (x = y) counts half
        second += 0.5 * (1 - fx ** n - tail)
    second *= 2 * step * step
    return math.sqrt(second - d2(n) ** 2)


def c4(n):
    return math.sqrt(2 / (n - 1)) * math.gamma(n / 2) / math.gamma((n - 1) / 2)


def chart(subgroups, baseline):
    n = len(subgroups[0])
    period = subgroups[: baseline or len(subgroups)]
    if n == 1:
        values = [s[0] for s in subgroups]
        location = values
        dispersion = [None] + [abs(b - a) for a, b in zip(values, values[1:])]
        base_values = [s[0] for s in period]
        mr_bar = statistics.fmean([abs(b - a) for a, b in zip(base_values, base_values[1:])])
        centre = statistics.fmean(base_values)
        sigma = mr_bar / d2(2)
        dispersion_limits = (mr_bar, max(0.0, mr_bar * (1 - 3 * d3(2) / d2(2))), mr_bar * (1 + 3 * d3(2) / d2(2)))
        kind = "I-MR"
    elif n <= 9:
        location = [statistics.fmean(s) for s in subgroups]
        dispersion = [max(s) - min(s) for s in subgroups]
        r_bar = statistics.fmean([max(s) - min(s) for s in period])
        centre = statistics.fmean([statistics.fmean(s) for s in period])
        sigma = r_bar / d2(n)
        factor = 3 * d3(n) / d2(n)
        dispersion_limits = (r_bar, max(0.0, r_bar * (1 - factor)), r_bar * (1 + factor))
        kind = "Xbar-R"
    else:
        location = [statistics.fmean(s) for s in subgroups]
        dispersion = [statistics.stdev(s) for s in subgroups]
        s_bar = statistics.fmean([statistics.stdev(s) for s in period])
        centre = statistics.fmean([statistics.fmean(s) for s in period])
        sigma = s_bar / c4(n)
        factor = 3 * math.sqrt(1 - c4(n) ** 2) / c4(n)
        dispersion_limits = (s_bar, max(0.0, s_bar * (1 - factor)), s_bar * (1 + factor))
        kind = "Xbar-S"
    spread = 3 * sigma / math.sqrt(n)
    return kind, location, dispersion, (centre, centre - spread, centre + spread), dispersion_limits, sigma


def special_causes(location, dispersion, limits, dispersion_limits):
    centre, lower, upper = limits
    flags = []
    for i, x in enumerate(location):
        if x > upper or x < lower:
            flags.append([i, 1, "location"])
        if i >= 8 and (all(v > centre for v in location[i - 8: i + 1]) or all(v < centre for v in location[i - 8: i + 1])):
            flags.append([i, 2, "location"])
        if i >= 5:
            steps = [location[j] - location[j - 1] for j in range(i - 4, i + 1)]
            if all(s > 0 for s in steps) or all(s < 0 for s in steps):
                flags.append([i, 3, "location"])
        if i >= 13:
            steps = [location[j] - location[j - 1] for j in range(i - 12, i + 1)]
            if all(a * b < 0 for a, b in zip(steps, steps[1:])):
                flags.append([i, 4, "location"])
    for i, r in enumerate(dispersion):
        if r is None:
            continue
        if r > dispersion_limits[2] or (dispersion_limits[1] > 0 and r < dispersion_limits[1]):
            flags.append([i, 1, "dispersion"])
    return sorted(flags, key=lambda f: (f[0], f[1], f[2]))


def capability(values, sigma_within, lower, upper):
    mean = statistics.fmean(values)
    overall = statistics.stdev(values)

    def indices(sigma):
        spread = (upper - lower) / (6 * sigma) if lower is not None and upper is not None else None
        sides = [v for v in [(upper - mean) / (3 * sigma) if upper is not None else None,
                             (mean - lower) / (3 * sigma) if lower is not None else None] if v is not None]
        return spread, min(sides)

    cp, cpk = indices(sigma_within)
    pp, ppk = indices(overall)
    return {"mean": mean, "sigma_within": sigma_within, "sigma_overall": overall, "cp": cp, "cpk": cpk, "pp": pp, "ppk": ppk}


def main():
    given = json.load(sys.stdin)
    subgroups = given["subgroups"]
    kind, location, dispersion, limits, dispersion_limits, sigma = chart(subgroups, given.get("baseline"))
    _, _, _, _, _, sigma_all = chart(subgroups, None)
    every = [v for s in subgroups for v in s]
    n = len(subgroups[0])
    print(json.dumps({
        "chart": kind,
        "constants": {"d2": d2(n) if 2 <= n <= 9 else None, "d3": d3(n) if 2 <= n <= 9 else None, "c4": c4(n) if n >= 2 else None},
        "location": location, "dispersion": dispersion,
        "limits": {"centre": limits[0], "lower": limits[1], "upper": limits[2]},
        "dispersion_limits": {"centre": dispersion_limits[0], "lower": dispersion_limits[1], "upper": dispersion_limits[2]},
        "sigma_within": sigma,
        "special_causes": special_causes(location, dispersion, limits, dispersion_limits),
        "capability": capability(every, sigma_all, given.get("lower"), given.get("upper")),
    }))


main()
