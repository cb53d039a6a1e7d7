"""benchmarks/gravity.py --detected: its table."""

from __future__ import annotations

from tests.benchmark_modules import load_benchmark


def test_detected_table_has_a_row_per_family_per_group_and_their_overall_rows():
    bench = load_benchmark("gravity")
    row = dict(clip="walk", family="dutch", error=10.0, pitch=0.0, true_pitch=5.0, confidence=1.0, turned=0.0)
    rows = [row, dict(row, family="elevated", error=30.0, turned=4.5), dict(row, clip="run", error=2.0)]
    lines = bench.detected_table(rows)
    assert lines[2:] == [
        "| training | dutch | 1 | 10.0 | 10.0 | 0 |",
        "| training | elevated | 1 | 30.0 | 30.0 | 1 |",
        "| training | **all** | 2 | 20.0 | 20.0 | 1 |",
        "| held-out | dutch | 1 | 2.0 | 2.0 | 0 |",
        "| held-out | **all** | 1 | 2.0 | 2.0 | 0 |",
    ]
    # No held-out rows: no held-out lines.
    assert bench.detected_table([row])[-1] == "| training | **all** | 1 | 10.0 | 10.0 | 0 |"
