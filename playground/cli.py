"""The ``playground`` command: serve the app, list labs and models, scaffold a lab,
run a lab headless."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Optional, Sequence

DESCRIPTION = """The contrastive-learning playground.

  playground                  serve the app (same as `playground serve`)
  playground labs [--json]    list labs and plugins, with any plugin errors
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

    labs = sub.add_parser("labs", help="list labs and plugins")
    labs.add_argument("--json", action="store_true", help="print a JSON list")

    models = sub.add_parser("models", help="list the registry's models")
    models.add_argument("--json", action="store_true", help="print a JSON list")

    new = sub.add_parser("new-lab", help="scaffold a student lab package")
    new.add_argument("name", help="the lab's name, e.g. my_lab (becomes the lab id)")
    new.add_argument("--dir", default=".", help="where to create the package folder (default: here)")

    run = sub.add_parser(
        "run", help="run a lab headless and print its figures",
        description="Run a lab headless. `playground run LAB --help` lists that lab's options.",
    )
    run.add_argument("lab", help="the lab id (see `playground labs`)")
    run.add_argument("lab_args", nargs=argparse.REMAINDER, help="the lab's own options")
    return parser


def cmd_serve(args: argparse.Namespace) -> int:
    if args.hub:
        os.environ["PLAYGROUND_HUB"] = "1"
    from .app import build_app, launch_kwargs

    host = args.host or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
    port = args.port or int(os.environ.get("GRADIO_SERVER_PORT") or 7860)
    demo = build_app()
    demo.launch(server_name=host, server_port=port, **launch_kwargs())
    return 0


def lab_rows() -> list[dict]:
    """One row per lab and one per failed plugin, as ``playground labs --json`` prints."""
    from .plugins import collect_labs, create_plugin_manager
    from .registry import create_registry

    pm = create_plugin_manager()
    create_registry(pm)  # so register_models failures are reported too
    rows = [
        {"id": lab.id, "title": lab.title, "plugin": lab.plugin, "order": lab.order,
         "description": lab.description, "error": None}
        for lab in collect_labs(pm)
    ]
    rows += [
        {"id": None, "title": None, "plugin": err.plugin, "order": None,
         "description": None, "error": f"{err.stage}: {err.message}"}
        for err in pm.errors
    ]
    return rows


def cmd_labs(args: argparse.Namespace) -> int:
    rows = lab_rows()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        if row["error"]:
            print(f"ERROR  {row['plugin']}: {row['error']}")
        else:
            print(f"{row['id']:<18} {row['title']:<40} ({row['plugin']})")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from .registry import create_registry

    rows = create_registry().status()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        mark = "yes" if row["available"] else "no "
        print(f"{row['id']:<24} {row['kind']:<11} available: {mark}  {row['reason']}")
    return 0


def cmd_new_lab(args: argparse.Namespace) -> int:
    from .scaffold import write_lab

    try:
        folder = write_lab(args.name, args.dir)
    except (ValueError, FileExistsError) as exc:
        print(f"playground new-lab: {exc}", file=sys.stderr)
        return 2
    print(f"Created {folder}\nNext:\n  pip install -e {folder}\n  pytest {folder}\n  playground labs")
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


def cmd_run(args: argparse.Namespace) -> int:
    from .lab import LabContext
    from .plugins import collect_labs, create_plugin_manager
    from .registry import ModelUnavailableError, UnknownModelError, create_registry

    pm = create_plugin_manager()
    registry = create_registry(pm)
    labs = {lab.id: lab for lab in collect_labs(pm)}
    lab = labs.get(args.lab)
    if lab is None:
        print(f"playground run: unknown lab {args.lab!r}. Known labs: {', '.join(labs) or 'none'}.", file=sys.stderr)
        return 2
    if lab.run is None:
        print(f"playground run: lab {lab.id!r} has no headless mode.", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(prog=f"playground run {lab.id}", description=lab.description or lab.title)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    if lab.add_arguments is not None:
        lab.add_arguments(parser)
    lab_args = parser.parse_args(args.lab_args)
    try:
        result = lab.run(lab_args, LabContext(registry=registry, lab_id=lab.id))
    except (ValueError, FileNotFoundError, ModelUnavailableError, UnknownModelError) as exc:
        print(f"playground run {lab.id}: {exc}", file=sys.stderr)
        return 1
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
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
