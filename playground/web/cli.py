"""The ``playground`` command: serve the app, list labs and models, scaffold a lab,
run a lab headless."""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from typing import Optional, Sequence

from playground.env import RELOAD_CHILD_ENV

DESCRIPTION = """The contrastive-learning playground.

  playground                  serve the app (same as `playground serve`; --dev/--no-dev)
  playground labs [--json]    build every tab; list labs and plugins, each error with its fix
  playground models [--json]  list models: availability, reason, device
  playground new-lab NAME     write a student lab package you can pip install
  playground run LAB [...]    run a lab headless and print its figures
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="playground", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve the web app (the default)")
    serve.add_argument("--host", help="interface to bind (default 127.0.0.1, or $GRADIO_SERVER_NAME)")
    serve.add_argument("--port", type=int, help="port (default 7860, or $GRADIO_SERVER_PORT)")
    serve.add_argument("--hub", action="store_true", help="allow downloading models from the Hugging Face Hub")
    dev = serve.add_mutually_exclusive_group()
    dev.add_argument(
        "--dev", dest="dev", action="store_true", default=None,
        help="dev mode: errors show their message and traceback in the page, and the app restarts when "
             "a plugin's source changes (the default when bound to loopback, never on a Space)",
    )
    dev.add_argument("--no-dev", dest="dev", action="store_false", help="no tracebacks in the page, no reload")

    labs = sub.add_parser("labs", help="list labs and plugins")
    labs.add_argument("--json", action="store_true", help="print a JSON list")

    models = sub.add_parser("models", help="list the registry's models")
    models.add_argument("--json", action="store_true", help="print a JSON list")
    models.add_argument(
        "--load", nargs="+", metavar="ID", default=[],
        help="load these models first, so the list shows what loading measures: the backend and, "
             "for a quantised model such as minilm-int8, its fidelity to the exact vectors",
    )

    new = sub.add_parser("new-lab", help="scaffold a student lab package")
    new.add_argument("name", help="the lab id, e.g. my_probe: lowercase letters, digits and '_', starting with a letter")
    new.add_argument("--dir", default=".", help="where to create the package folder (default: here)")

    run = sub.add_parser(
        "run", help="run a lab headless and print its figures",
        description="Run a lab headless. `playground run LAB --help` lists that lab's options.",
    )
    run.add_argument("lab", help="the lab id (see `playground labs`)")
    run.add_argument("lab_args", nargs=argparse.REMAINDER, help="the lab's own options")
    return parser


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def cmd_serve(args: argparse.Namespace) -> int:
    if args.hub:
        os.environ["PLAYGROUND_HUB"] = "1"
    host = args.host or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
    port = args.port or int(os.environ.get("GRADIO_SERVER_PORT") or 7860)
    dev = args.dev if args.dev is not None else host in LOOPBACK
    if os.environ.get("SPACE_ID"):
        dev = False  # a public Space keeps the safe messages
    if not dev:
        os.environ.pop("PLAYGROUND_DEV", None)
    if dev and not os.environ.get(RELOAD_CHILD_ENV):
        from playground.web.devserver import serve_with_reload

        print(f"Dev mode: tracebacks in the page; the app restarts when a plugin's source changes "
              f"(`--no-dev` turns this off). http://{host}:{port}/", flush=True)
        return serve_with_reload(["serve", "--host", host, "--port", str(port), *(["--hub"] if args.hub else [])])

    from playground.web.app import build_app, launch_kwargs

    demo = build_app()
    # Gradio's launch first waits, with no time limit, for the server to answer; then it asks
    # for the page with 3 s per try and, on one timeout, stops the server with "When localhost
    # is not accessible, a shareable link must be created". On a loaded two-core machine the
    # first render of the page took longer than that (a CI run), and the server answered
    # already, so that second check (the only thing ``_frontend=False`` turns off) is skipped.
    demo.launch(server_name=host, server_port=port, _frontend=False, **launch_kwargs())
    return 0


def lab_rows(pm=None) -> list[dict]:
    """One row per lab and one per plugin that failed before registering a lab, as
    ``playground labs --json`` prints. Every tab is built headless in a throwaway
    ``gr.Blocks`` first, so a ``build`` that raises is reported too."""
    from playground.classroom import VoteStore
    from playground.contract.plugins import create_plugin_manager, create_registry
    from playground.web.app import build_app

    pm = pm if pm is not None else create_plugin_manager()
    registry = create_registry(pm)  # so register_models failures are reported too
    # Built with a throwaway vote store: the classroom reads its signing secret from the vote
    # database while the app is built, and a command that only lists writes nothing where it runs.
    with tempfile.TemporaryDirectory(prefix="playground-labs-") as scratch:
        votes = VoteStore(os.path.join(scratch, "classroom.sqlite3"))
        demo = build_app(pm, registry, votes=votes)  # builds every tab; failures are recorded in pm
        votes.close()
    labs = demo.playground_labs
    rows = []
    for lab in labs:
        info = pm.infos.get(lab.plugin)
        error = info.error if info is not None else None
        rows.append(_row(lab.id, lab.title, lab.plugin, info.source if info else "", lab.order, lab.description, error))
    with_labs = {lab.plugin for lab in labs}
    rows += [
        _row(None, None, err.plugin, pm.infos[err.plugin].source, None, None, err)
        for err in pm.errors if err.plugin not in with_labs
    ]
    return rows


def _row(lab_id, title, plugin, source, order, description, error) -> dict:
    return {
        "id": lab_id, "title": title, "plugin": plugin, "source": source, "order": order,
        "description": description,
        "error": f"{error.stage}: {error.message}" if error else None,
        "fix": error.fix if error else None,
    }


def cmd_labs(args: argparse.Namespace) -> int:
    rows = lab_rows()
    failed = [row for row in rows if row["error"]]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 1 if failed else 0
    for row in rows:
        if row["id"] is not None:
            mark = "ERROR" if row["error"] else "ok   "
            print(f"{mark} {row['id']:<18} {row['title']:<34} ({row['plugin']})")
    for row in failed:
        where = f"lab {row['id']!r} of plugin" if row["id"] else "plugin"
        print(f"\nERROR in {where} {row['plugin']!r} ({row['source']}): {row['error']}")
        if row["fix"]:
            print(f"  Fix: {row['fix']}")
    if failed:
        print(f"\n{len(failed)} problem(s); the app would show them in the Plugins panel.", file=sys.stderr)
        return 1
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from playground.contract.plugins import create_registry
    from playground.models.registry import ModelUnavailableError, UnknownModelError, fidelity_text

    registry = create_registry()
    for model_id in args.load:
        try:
            registry.get(model_id)
        except (UnknownModelError, ModelUnavailableError, ValueError) as exc:
            print(f"playground models: cannot load {model_id!r}: {exc}", file=sys.stderr)
            return 2
    rows = registry.status()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        mark = "yes" if row["available"] else "no "
        print(f"{row['id']:<24} {row['kind']:<11} available: {mark}  {row['reason']}")
        if row["loaded"]:
            fidelity = fidelity_text(row.get("fidelity"))
            print(f"{'':<24} loaded on {row['device']}, backend {row['backend']}" + (f"; {fidelity}" if fidelity else ""))
    return 0


def cmd_new_lab(args: argparse.Namespace) -> int:
    from playground.contract.plugins import collect_labs, create_plugin_manager
    from playground.contract.scaffold import write_lab

    taken = [lab.id for lab in collect_labs(create_plugin_manager())]
    try:
        folder = write_lab(args.name, args.dir, taken=taken)
    except (ValueError, FileExistsError) as exc:
        print(f"playground new-lab: {exc}", file=sys.stderr)
        return 2
    print(
        f"Created {folder} (lab id {args.name!r})\nNext:\n  pip install -e \"{folder}[test]\"\n  pytest {folder}\n"
        f"  playground labs\n  playground run {args.name}\n  playground serve --dev"
    )
    return 0


def format_generic(result, indent: int = 0) -> str:
    """A readable layout of a lab's result dict: nested keys indented, lists of
    flat dicts as aligned tables."""
    pad = " " * indent
    lines = []
    for key, value in result.items():
        if isinstance(value, dict):
            lines.append(f"{pad}{key}:")
            lines.append(format_generic(value, indent + 2))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            cols = list(value[0])
            lines.append(f"{pad}{key}:")
            lines.append(pad + "  " + "  ".join(f"{c:>14}" for c in cols))
            for v in value:
                lines.append(pad + "  " + "  ".join(f"{_fmt(v.get(c)):>14}" for c in cols))
        else:
            lines.append(f"{pad}{key}: {_fmt(value)}")
    return "\n".join(lines)


def _fmt(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


# What silences the progress bars ("Loading weights 0%...") and download chatter of the
# Hugging Face libraries and tqdm, read when they are imported.
QUIET_ENV = {"HF_HUB_DISABLE_PROGRESS_BARS": "1", "TQDM_DISABLE": "1", "TRANSFORMERS_VERBOSITY": "error",
             "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1"}


def quiet_progress() -> None:
    """Keep stderr free of progress bars for a machine-read ``--json`` run: set
    ``QUIET_ENV`` for libraries not imported yet, and switch off the bars of those
    already imported."""
    os.environ.update(QUIET_ENV)
    if "huggingface_hub" in sys.modules:
        sys.modules["huggingface_hub"].utils.disable_progress_bars()
    if "transformers" in sys.modules:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()


def lab_parser(lab, parser_class: type = argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The parser of ``playground run LAB``: ``--json``, ``--verbose`` and the lab's own
    options (``lab.add_arguments``). The notebook parses its keyword arguments with it too,
    so a bad option reads the same in both (``parser_class`` lets it raise, not exit)."""
    parser = parser_class(prog=f"playground run {lab.id}", description=lab.description or lab.title)
    parser.add_argument("--json", action="store_true", help="print one JSON object; no progress bars on stderr")
    parser.add_argument("--verbose", action="store_true", help="with --json, show the libraries' progress bars too")
    if lab.add_arguments is not None:
        lab.add_arguments(parser)
    return parser


def run_error(lab_id: str, exc: BaseException) -> str:
    """The one line ``playground run LAB`` prints when the lab refuses its input."""
    return f"playground run {lab_id}: {exc}"


def cmd_run(args: argparse.Namespace) -> int:
    from playground.contract.lab import LabContext
    from playground.contract.plugins import collect_labs, create_plugin_manager, create_registry
    from playground.models.gpu import collect_notices
    from playground.models.registry import ModelUnavailableError, UnknownModelError

    pm = create_plugin_manager()
    registry = create_registry(pm)
    labs = {lab.id: lab for lab in collect_labs(pm)}
    lab = labs.get(args.lab)
    if lab is None:
        print(f"playground run: unknown lab {args.lab!r}. Known labs: {', '.join(labs) or 'none'}.", file=sys.stderr)
        # A plugin that failed registered no lab: its error is the likely reason.
        named = [e for e in pm.errors if e.plugin == args.lab or args.lab in e.plugin]
        if named or pm.errors:
            print("These plugins failed to load, which may be why:", file=sys.stderr)
        for error in named or pm.errors:
            print(f"\n{error}", file=sys.stderr)
        return 2
    if lab.run is None:
        print(f"playground run: lab {lab.id!r} has no headless mode.", file=sys.stderr)
        return 2
    lab_args = lab_parser(lab).parse_args(args.lab_args)
    if lab_args.json and not lab_args.verbose:
        quiet_progress()
    try:
        with collect_notices(live=lambda line: print(f"playground run {lab.id}: {line}", file=sys.stderr)) as notices:
            result = lab.run(lab_args, LabContext(registry=registry, lab_id=lab.id))
    except (ValueError, FileNotFoundError, ModelUnavailableError, UnknownModelError) as exc:
        print(run_error(lab.id, exc), file=sys.stderr)
        return 1
    for notice in dict.fromkeys(notices):  # where ZeroGPU refused, the run computed on the CPU
        print(f"playground run {lab.id}: {notice}", file=sys.stderr)
    if lab_args.json:
        print(json.dumps(result, indent=2, default=float))
    else:
        print((lab.format_result or format_generic)(result))
    return 0


COMMANDS = {"serve": cmd_serve, "labs": cmd_labs, "models": cmd_models, "new-lab": cmd_new_lab, "run": cmd_run}


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    if not argv or argv[0].startswith("--") and argv[0] not in ("--help",):
        argv = ["serve", *argv]
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["serve"])
    try:
        code = COMMANDS[args.command](args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # `playground labs --json | head`: the reader left; say nothing more. Python
        # would complain again when flushing stdout at exit, so point it at devnull.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
