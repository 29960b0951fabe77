"""Write a benchmark's table into its marked block of the README, so no figure
there is typed by hand: ``<!-- bench:NAME -->`` ... ``<!-- /bench:NAME -->``."""
from __future__ import annotations

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def markdown_table(rows: list[tuple[str, str]]) -> str:
    return "\n".join(["| figure | value |", "|---|---|", *(f"| {figure} | {value} |" for figure, value in rows)])


def publish(name: str, rows: list[tuple[str, str]], command: str, write_readme: bool, where: str = "") -> None:
    """Print a benchmark's table and, with ``write_readme``, put it in the README's
    ``bench:NAME`` block, saying it was measured by ``command`` (on ``where`` and this machine)."""
    print(markdown_table(rows))
    if write_readme:
        write_readme_block(name, rows, f"`{command}` ({where}{machine()})")


def write_readme_block(name: str, rows: list[tuple[str, str]], how: str) -> None:
    """Replace the README's ``bench:NAME`` block with a table of ``rows`` and a line
    saying how and where it was measured."""
    path = os.path.join(ROOT, "README.md")
    table = markdown_table(rows)
    block = f"<!-- bench:{name} -->\nMeasured by {how}:\n\n{table}\n<!-- /bench:{name} -->"
    text = open(path, encoding="utf-8").read()
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S)
    if not pattern.search(text):
        raise SystemExit(f"README.md has no <!-- bench:{name} --> block to rewrite")
    open(path, "w", encoding="utf-8").write(pattern.sub(lambda _: block, text))


def machine() -> str:
    import platform

    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average {os.getloadavg()[0]:.1f} when it ran")


def block_rows(name: str) -> list[tuple[str, str]]:
    """The ``(figure, value)`` rows of the README's ``bench:NAME`` table as it stands."""
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    found = re.search(rf"<!-- bench:{re.escape(name)} -->(.*?)<!-- /bench:{re.escape(name)} -->", text, re.S)
    if not found:
        raise SystemExit(f"README.md has no <!-- bench:{name} --> block")
    rows = [line.strip("|").split(" | ", 1) for line in found.group(1).splitlines() if line.startswith("| ")]
    return [(figure.strip(), value.strip()) for figure, value in rows if figure.strip() != "figure"]


def block_header(name: str) -> str:
    """The README's ``bench:NAME`` block's "Measured by ...:" line, without "Measured by " and the colon."""
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    found = re.search(rf"<!-- bench:{re.escape(name)} -->\nMeasured by (.*?):\n", text, re.S)
    if not found:
        raise SystemExit(f"README.md has no <!-- bench:{name} --> block")
    return found.group(1)


def merge_rows(name: str, fresh: list[tuple[str, str]], command: str) -> list[tuple[str, str]]:
    """The README's ``bench:NAME`` rows with the re-measured ``fresh`` rows in place of their
    namesakes (new ones at the end), each marked with how and where it was re-run (``command``,
    this machine), so a row measured apart from the table's run says so."""
    marked = {figure: f"{value} (re-run alone: `{command}`, {machine()})" for figure, value in fresh}
    merged = [(figure, marked.pop(figure, value)) for figure, value in block_rows(name)]
    return merged + list(marked.items())
