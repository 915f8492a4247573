"""``python -m conformance --target ROOT``: the whole harness on any implementation of the
websockets asyncio API, with ROOT as the subject in compat's place.

Each step runs in a subprocess from the repository root: the differential suite, the API-surface
check and the Hypothesis properties (one pytest session), the Autobahn TestSuite (``--autobahn``)
and the benchmarks (``--bench``), then the report of this run alone. The catalogue declares
differences per target name, so a root it doesn't name has none declared: each of its
differences from websockets is undeclared and fails the run.

Exit status: 0 when every step passed; 1 when the subject differs without a declaration, errors,
fails an Autobahn case, or a step fails; 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shlex
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from reports.inputs import INPUTS

from .paths import RESULTS_ENV, ROOT
from .targets import REFERENCE, Target

__all__ = ["DEFAULT_OUT", "SUITES", "Plan", "main", "parse"]

#: Where a run's results and report go by default: one folder per subject.
DEFAULT_OUT = ROOT / "reports" / "out" / "targets"
#: Test directories of the pytest session, relative to the repository root.
SUITES = ("conformance", "fuzz/hypothesis")
#: The raw picows core, which the benchmarks measure as the limit.
RAW_PICOWS = "picows"
#: Counts of a target's runs that fail the subject.
FAILING = ("different", "error")


def program() -> str:
    """How this command was called: the console script's name, or ``python -m conformance``."""
    name = pathlib.Path(sys.argv[0]).name
    return "python -m conformance" if name in ("__main__.py", "-m", "") else name


def checkout_missing() -> str | None:
    """Why the harness can't run where it was imported from, or ``None``.

    It runs pytest on its own folders and writes under ``reports/out``: it needs the repository's
    checkout around it, as ``python -m conformance`` from the checkout or the console script of an
    editable install of ``harness/`` have.
    """
    if (ROOT / "pyproject.toml").is_file() and (ROOT / "fuzz" / "hypothesis").is_dir():
        return None
    return (
        f"the harness at {ROOT} is not in a checkout of its repository; install it editable "
        "from one: pip install -e '.[test]' -e ./harness"
    )


def parser() -> argparse.ArgumentParser:
    """The command line's options; arguments after ``--`` go to pytest."""
    parser = argparse.ArgumentParser(
        prog=program(),
        description="Run the conformance harness with ROOT as the subject and write its report.",
        epilog="Arguments after -- go to pytest, e.g. -- -k close -x. Exit status: 0 when every "
        "step passed, 1 when the subject has an undeclared difference or an error or a step "
        "failed, 2 when ROOT doesn't import or the command line is wrong.",
    )
    parser.add_argument(
        "--target",
        required=True,
        metavar="ROOT",
        help="importable module root exposing the websockets asyncio API, run as the subject",
    )
    parser.add_argument(
        "--peer",
        action="append",
        default=[],
        metavar="ROOT",
        help="module root measured and reported beside it, never failing the run (repeatable; "
        "compat runs only if named here)",
    )
    parser.add_argument(
        "--autobahn",
        nargs="?",
        const="",
        metavar="ARGS",
        help="also run the Autobahn TestSuite on websockets, ROOT and the peers; ARGS are added "
        "to python -m fuzz.autobahn, e.g. --autobahn='--cases 1.*,2.*'",
    )
    parser.add_argument(
        "--bench",
        nargs="?",
        const="",
        metavar="ARGS",
        help="also run the benchmarks on raw picows, ROOT, the peers and websockets; ARGS are "
        "added to python -m bench, e.g. --bench=--quick",
    )
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        metavar="DIR",
        help="folder of the results and the report (default: reports/out/targets/ROOT)",
    )
    return parser


class Plan:
    """What one run does: the subject, its peers, the output folder and each step's command."""

    def __init__(self, args: argparse.Namespace, pytest_args: Sequence[str]) -> None:
        self.subject: str = args.target
        self.peers = [
            root for root in dict.fromkeys(args.peer) if root not in (REFERENCE, self.subject)
        ]
        self.out: pathlib.Path = (args.out or DEFAULT_OUT / self.subject).resolve()
        self.results = self.out / "results"
        python = [sys.executable, "-m"]
        targets = [REFERENCE, self.subject, *self.peers]
        self.steps: list[tuple[str, list[str]]] = [
            (
                "conformance",
                [
                    *python, "pytest", *SUITES,
                    f"--subject={self.subject}",
                    f"--targets={','.join(targets)}",
                    *(f"--peer-root={root}" for root in self.peers),
                    *pytest_args,
                ],
            )
        ]
        if args.autobahn is not None:
            command = [*python, "fuzz.autobahn", "--outdir", str(self.out / "autobahn")]
            for root in targets:
                command += ["--target", root]
            command += ["--strict-target", self.subject, *shlex.split(args.autobahn)]
            self.steps.append(("autobahn", command))
        if args.bench is not None:
            bench_targets = [RAW_PICOWS, self.subject, *self.peers, REFERENCE]
            self.steps.append((
                "bench",
                [
                    *python, "bench", "--targets", *bench_targets,
                    "--output", str(self.results / "bench.json"),
                    *shlex.split(args.bench),
                ],
            ))
        self.steps.append(("report", [*python, "reports", "--source", str(self.out)]))

    def environment(self) -> dict[str, str]:
        """This process's environment, with the results folder set and the current directory
        importable, as it is here, from the repository root the steps run in."""
        paths = [os.getcwd(), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        return {
            **os.environ,
            RESULTS_ENV: str(self.results),
            "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths)),
        }

    def clear(self) -> None:
        """Remove result files an earlier run left in the output folder: the report reads them."""
        for relative, _schema in INPUTS.values():
            (self.out / relative).unlink(missing_ok=True)

    def subject_counts(self) -> dict[str, int] | None:
        """The subject's runs by status in this run's conformance results, if any."""
        try:
            document: dict[str, Any] = json.loads(
                (self.results / "conformance.json").read_text(encoding="utf-8")
            )
        except (OSError, ValueError):
            return None
        counts: dict[str, int] | None = document.get("summary", {}).get(self.subject)
        return counts


def parse(argv: Sequence[str]) -> Plan:
    """The plan for a command line; exit 2 on a usage error."""
    argv = list(argv)
    split = argv.index("--") if "--" in argv else len(argv)
    command_line = parser()
    args = command_line.parse_args(argv[:split])
    if args.target == REFERENCE:
        command_line.error(f"{REFERENCE} is the reference every target is compared with")
    return Plan(args, argv[split + 1 :])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the plan's steps, print what they found, and return the exit status."""
    plan = parse(sys.argv[1:] if argv is None else argv)
    missing = checkout_missing()
    if missing is not None:
        print(f"{program()}: {missing}", file=sys.stderr)
        return 2
    subject = Target(plan.subject, plan.subject, "subject")
    if not subject.available:
        print(f"{plan.subject} can't be tested: {subject.error}", file=sys.stderr)
        return 2
    plan.clear()
    environment = plan.environment()
    statuses: dict[str, int] = {}
    try:
        for name, command in plan.steps:
            print(f"[{name}] {shlex.join(command)}", flush=True)
            statuses[name] = subprocess.run(
                command, cwd=ROOT, env=environment, check=False
            ).returncode
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    print()
    for name, status in statuses.items():
        print(f"{name} step: {'passed' if status == 0 else f'failed (exit status {status})'}")
    counts = plan.subject_counts()
    if counts is None:
        print(f"{plan.subject} (subject): no conformance results")
    else:
        print(
            f"{plan.subject} (subject), runs: {counts['identical']} identical to websockets, "
            f"{counts['declared']} with declared differences, {counts['different']} with "
            f"undeclared differences, {counts['error']} errors"
        )
    print(f"report: {plan.out / 'compatibility.html'}")
    failed = any(statuses.values()) or any((counts or {}).get(key) for key in FAILING)
    return 1 if failed else 0
