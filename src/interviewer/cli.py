"""`interviewer` command line: roles, rehearse (text mode), api, agent, up."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import textwrap
from pathlib import Path

from interviewer.config import ConfigError, load_settings


def _cmd_roles(_args: argparse.Namespace) -> int:
    from interviewer.interview.plans import list_roles

    for plan in list_roles():
        print(f"{plan.id:28} {plan.title}")
        print(f"{'':28} {', '.join(c.name for c in plan.competencies)}")
    return 0


def _cmd_rehearse(args: argparse.Namespace) -> int:
    from interviewer.interview.plans import UnknownRole, load_role, plan_from_job_description
    from interviewer.rehearse import lines_from_file, lines_from_terminal, rehearse, write_report
    from interviewer.store import Store

    settings = load_settings()
    try:
        plan = load_role(args.role) if args.jd is None else plan_from_job_description(args.jd.read_text())
    except UnknownRole as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.answers is not None and not args.answers.is_file():
        print(f"error: --answers {args.answers}: no such file", file=sys.stderr)
        return 2
    store = Store(args.database or settings.resolved_database_url)
    print(f"Plan: {plan.title} — {', '.join(c.name for c in plan.competencies)}\n", flush=True)

    def show(speaker: str, text: str) -> None:
        label = "Interviewer" if speaker == "interviewer" else "You"
        print(textwrap.fill(f"{label}: {text}", width=100, subsequent_indent="    "), flush=True)

    answers = lines_from_file(args.answers) if args.answers else lines_from_terminal()
    report = asyncio.run(rehearse(store, plan, answers, duration_minutes=args.duration, print_line=show))
    print(f"\nOverall {report.overall.score:.1f}/5 — {report.overall.verdict}")
    for competency in report.competencies:
        score = f"— {competency.reason}" if competency.score is None else f"{competency.score}/5"
        print(f"  {competency.name:32} {score}")
    if args.report:
        write_report(report, args.report)
        print(f"report written to {args.report}")
    store.close()
    return 0


def _cmd_api(_args: argparse.Namespace) -> int:
    from interviewer.api.__main__ import main as api_main

    api_main()
    return 0


def _cmd_agent(_args: argparse.Namespace) -> int:
    from interviewer.agent.worker import main as worker_main

    return worker_main()


def _cmd_up(args: argparse.Namespace) -> int:
    if args.cluster:
        from interviewer.cluster import main as cluster_main

        return cluster_main(open_port=args.port)
    from interviewer.up import main as up_main

    return up_main(open_port=args.port)


def _cmd_candidate(args: argparse.Namespace) -> int:
    from interviewer.bench.candidate import main as candidate_main

    return candidate_main(args)


def _cmd_bench_combine(args: argparse.Namespace) -> int:
    from interviewer.bench.combine import main as combine_main

    return combine_main(args)


def _cmd_bench(args: argparse.Namespace) -> int:
    from interviewer.bench.runner import main as bench_main

    return bench_main(args)


def _cmd_doctor(_args: argparse.Namespace) -> int:
    from interviewer.doctor import main as doctor_main

    return doctor_main(load_settings())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="interviewer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("roles", help="list the role plans").set_defaults(func=_cmd_roles)

    rehearse = sub.add_parser("rehearse", help="run a whole interview in text mode")
    rehearse.add_argument("--role", default="backend-engineer")
    rehearse.add_argument("--jd", type=Path, help="build the plan from this job description file")
    rehearse.add_argument("--answers", type=Path, help="one answer per line (default: type them)")
    rehearse.add_argument("--report", type=Path, help="write the report JSON here")
    rehearse.add_argument("--duration", type=int, default=20, choices=range(5, 61), metavar="MINUTES")
    rehearse.add_argument("--database", help="database URL (default: settings)")
    rehearse.set_defaults(func=_cmd_rehearse)

    sub.add_parser("api", help="serve the api (settings from the environment)").set_defaults(func=_cmd_api)
    sub.add_parser("agent", help="run one agent worker").set_defaults(func=_cmd_agent)
    sub.add_parser("doctor", help="check this configuration end to end").set_defaults(func=_cmd_doctor)
    up = sub.add_parser("up", help="bring the whole local stack up (what `make run` calls)")
    up.add_argument("--port", type=int, default=8000, help="the api/web port")
    up.add_argument(
        "--cluster",
        action="store_true",
        help="Redis, Postgres, two livekit nodes, two apis, two workers (the production shape)",
    )
    up.set_defaults(func=_cmd_up)

    candidate = sub.add_parser("candidate", help="a simulated candidate that joins by voice")
    candidate.add_argument("--api", default="http://127.0.0.1:8000")
    candidate.add_argument("--emulator", required=True, help="Auth emulator host:port")
    candidate.add_argument("--role", default="backend-engineer")
    candidate.add_argument("--answers", type=Path, required=True)
    candidate.add_argument("--record", type=Path, help="write what the agent said to this WAV")
    candidate.set_defaults(func=_cmd_candidate)

    from interviewer.bench.runner import add_arguments as bench_arguments

    bench = sub.add_parser(
        "bench", help="many simulated candidates against a real stack (JSON lines, summary)"
    )
    bench_arguments(bench)
    bench.set_defaults(func=_cmd_bench)

    from interviewer.bench.combine import add_arguments as combine_arguments

    combine = sub.add_parser("bench-combine", help="one summary over several bench runs (batches)")
    combine_arguments(combine)
    combine.set_defaults(func=_cmd_bench_combine)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in ("roles", "rehearse"):
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        # A refused tool call during the greeting is the guard working, not a warning for the user.
        logging.getLogger("livekit.agents").setLevel(logging.ERROR)
    try:
        code: int = args.func(args)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
