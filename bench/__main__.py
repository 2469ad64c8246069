"""`make bench`: every figure beside its baseline from the same run, as one table, also
written into docs/benchmarks.md with the machine it was measured on.

    python -m bench [--quick] [--rows N] [--postgresql URL] [--output FILE]

`--quick` is the smoke run `make test` makes so the benchmark never rots: tiny counts,
figures not meant to be read. Parts: receipts (bench/receipts.py), pages through
gunicorn under wrk (bench/pages.py), the outbox's workers (bench/outbox.py), support's
lookups (bench/lookups.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench import lookups, outbox, pages, receipts
from bench.report import machine, text_table, write_markdown

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run with tiny counts")
    parser.add_argument("--rows", type=int, help="receipts for the lookups (1,000,000)")
    parser.add_argument("--postgresql", help="URL of a PostgreSQL database the benchmark may "
                        "empty; without it the PostgreSQL figures are left out")
    parser.add_argument("--output", type=Path, default=DOCUMENT,
                        help="the document whose generated part is replaced")
    args = parser.parse_args(argv)
    rows = args.rows or (300 if args.quick else 1_000_000)

    figures = receipts.run(args.quick)
    print(text_table(figures), flush=True)
    # Closings render the typical receipt; their baseline is its rate on every core.
    receipts_per_second = receipts.all_cores_rate(figures, "typical")
    http = pages.run(args.quick, None, receipts_per_second)
    if args.postgresql:
        http += pages.run(args.quick, args.postgresql, receipts_per_second, weigh=False)
    print(text_table(http), flush=True)
    delivered = outbox.run(args.quick, None)
    if args.postgresql:
        delivered += outbox.run(args.quick, args.postgresql)
    print(text_table(delivered), flush=True)
    found = lookups.run(rows, args.postgresql)
    figures += http + delivered + found

    print("\n" + text_table(figures))
    described = machine(pages.settings(args.quick) | outbox.settings(args.quick)
                        | lookups.settings(args.postgresql))
    command = " ".join(["python -m bench", "--quick" * args.quick, f"--rows {rows}",
                        "--postgresql URL" * bool(args.postgresql)]).replace("  ", " ")
    write_markdown(args.output, figures, described, command)
    print(f"\nwritten to {args.output}")


if __name__ == "__main__":
    main()
