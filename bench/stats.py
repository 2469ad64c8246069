"""Figures the benchmarks share: percentiles, the median of a few runs with their
range, and the process's resident memory."""

import statistics
from pathlib import Path


def rss_mb() -> float:
    """Return the process's resident set size in MiB (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096 / 2**20


def percentile(values, share: float) -> float:
    """Return the value below which `share` of the values fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def median_range(values) -> tuple[float, tuple[float, float]]:
    """Return the median of a few runs' values and their range (lowest, highest)."""
    return statistics.median(values), (min(values), max(values))
