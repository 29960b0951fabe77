"""The lab README's measured figures, rendered from ``measured.json`` (which
``benchmarks/bench_simclr.py --write`` writes from real runs). A test checks that the
README's block is exactly this rendering, so no figure in it is typed by hand."""
from __future__ import annotations

import json
import os

MEASURED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "measured.json")
README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "README.md")
START, END = "<!-- measured:start (written by benchmarks/bench_simclr.py --write) -->", "<!-- measured:end -->"


def _pct(v: float) -> str:
    return f"{100 * v:.1f}%"


def _run_table(title: str, summary: dict) -> list[str]:
    s = summary["settings"]
    lines = [
        f"**{title}**: `{s['encoder']}` on `{s['data']}`, augmentations `{','.join(s['augment'])}`, batch {s['batch_size']}, "
        f"{summary['steps_done']} steps, τ {s['tau']}, seed {s['seed']}: **{summary['seconds']:.0f} s**, "
        f"loss {summary['first_loss']:.2f} → {summary['final_loss']:.2f} (a guess: {summary['loss_floor']:.2f}).",
        "",
        "| attribute | chance | trained encoder | its projection head | untrained encoder | raw pixels |",
        "|---|---|---|---|---|---|",
    ]
    for name, a in summary["attributes"].items():
        lines.append(f"| {name} | {_pct(a['chance'])} | **{_pct(a['probe_accuracy'])}** | {_pct(a['head_accuracy'])} | "
                     f"{_pct(a['random_init_accuracy'])} | {_pct(a['pixel_accuracy'])} |")
    agree = summary["neighbour_agreement"]
    lines += ["", f"Five nearest held-out neighbours sharing the query's {summary['main_attribute']}: trained "
                  f"{_pct(agree['trained'])}, untrained {_pct(agree['random init'])}, pixels {_pct(agree['pixels'])}.", ""]
    return lines


def _experiment_table(title: str, summary: dict) -> list[str]:
    attrs = list(summary["chance"])
    lines = [f"**{title}**", "", "| run | augmentations | batch | steps | " + " | ".join(attrs) + " | seconds |",
             "|---|---|---|---|" + "---|" * len(attrs) + "---|"]
    for r in summary["runs"]:
        lines.append(f"| {r['label']} | {','.join(r['augment'])} | {r['batch_size']} | {r['steps']} | "
                     + " | ".join(_pct(r["probes"][a]) for a in attrs) + f" | {r['seconds']:.0f} |")
    for name, key in (("untrained encoder", "random_init"), ("raw pixels", "pixels"), ("chance", "chance")):
        lines.append(f"| {name} | | | | " + " | ".join(_pct(summary[key][a]) for a in attrs) + " | |")
    return lines + [""]


def readme_block(measured: dict) -> str:
    """The README's measured section, from ``measured.json``'s content."""
    lines = [START, "", f"Measured on {measured['machine']} ({measured['date']}); the machine was shared with other "
                        "jobs, so the seconds are pessimistic.", ""]
    lines += _run_table("Default run", measured["default"])
    lines += _run_table("Digits", measured["digits"])
    lines += _run_table("Tiny ViT", measured["vit"])
    lines += _experiment_table("Experiment 1, what you augment away (`playground run simclr --experiment augment`)",
                               measured["augment"])
    lines += _experiment_table("Experiment 2, batch size at equal images seen (`playground run simclr --experiment batch`)",
                               measured["batch"])
    return "\n".join(lines + [END])


def load_measured(path: str = MEASURED) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_readme(measured: dict, path: str = README) -> None:
    """Replace the README's measured block (between the two markers) with a fresh rendering."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if START not in text or END not in text:
        raise ValueError(f"{path} has no measured block; add the lines {START!r} and {END!r}.")
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    with open(path, "w", encoding="utf-8") as f:
        f.write(head + readme_block(measured) + tail)
