"""Command line: render the compatibility report and print the path of its HTML file."""

from __future__ import annotations

import argparse
import pathlib

from .catalogue import DEFAULT as DEFAULT_CATALOGUE
from .render import OUT, render


def main() -> None:
    """Render the report and print the path of the HTML file."""
    parser = argparse.ArgumentParser(prog="python -m reports", description=main.__doc__)
    parser.add_argument(
        "--source",
        type=pathlib.Path,
        default=OUT,
        help="folder holding results/ and autobahn/ (default: reports/out)",
    )
    parser.add_argument(
        "--output",
        type=pathlib.Path,
        default=None,
        help="folder to write the report into (default: the source folder)",
    )
    parser.add_argument(
        "--catalogue",
        type=pathlib.Path,
        default=DEFAULT_CATALOGUE,
        help="conformance catalogue (default: conformance/catalogue.toml)",
    )
    args = parser.parse_args()
    print(render(args.source, args.output, args.catalogue))


if __name__ == "__main__":
    main()
