"""The instructor view: a tab that exists only when ``PLAYGROUND_INSTRUCTOR_TOKEN`` is
set. Every action takes the token and compares it in constant time; a wrong one shows
nothing. It reads and changes only the class code typed in."""
from __future__ import annotations

import hmac
import os
import tempfile
from typing import Optional

import gradio as gr

from .store import VoteStore, class_code
from .ui import bars

TOKEN_ENV = "PLAYGROUND_INSTRUCTOR_TOKEN"
REFUSED = "Wrong or missing instructor token: nothing is shown."
LIVE_SECONDS = 5.0


def instructor_token() -> str:
    return os.environ.get(TOKEN_ENV, "")


def token_ok(given: Optional[str]) -> bool:
    expected = instructor_token()
    return bool(expected) and hmac.compare_digest(str(given or "").encode(), expected.encode())


def overview(store: VoteStore, code: str) -> str:
    """Every registered question's distribution in class ``code``, this round."""
    parts = [f"## Class `{code}`"]
    if store.problem:
        parts.append(f"⚠ {store.problem}")
    for (lab, question), q in sorted(store.questions.items()):
        round_ = store.current_round(lab, question, code)
        measured = store.measured.get((code, lab, question))
        answer = f"\n\n**Measured** (the latest run in this class, as its student saw it):\n\n> {measured.replace(chr(10), chr(10) + '> ')}" \
            if measured else "\n\n*No run in this class yet.*"
        parts.append(f"### {lab} · {question} (round {round_})\n{q.text}\n\n"
                     f"{bars(store.distribution(lab, question, code), labels=q.label_of())}{answer}")
    return "\n\n".join(parts)


def build_instructor_tab(store: VoteStore) -> None:
    gr.Markdown("For the instructor: type the token and your class code (the `?class=` of the students' link; "
                "empty for the default class).")
    with gr.Row():
        token = gr.Textbox(label="Instructor token", type="password", scale=2)
        code_box = gr.Textbox(label="Class code", placeholder="default", scale=1)
        show = gr.Button("Show the class's votes", variant="primary")
        live = gr.Checkbox(label=f"Refresh every {LIVE_SECONDS:g} s", value=False,
                           info="keep it on while the class votes")
    view = gr.Markdown()
    timer = gr.Timer(LIVE_SECONDS, active=False)
    keys = [f"{lab} · {question}" for lab, question in sorted(store.questions)]
    with gr.Row():
        which = gr.Dropdown(keys, label="Question", scale=2)
        new_round = gr.Button("New round (students re-vote)")
        reset = gr.Button("Reset this class", variant="stop")
        export = gr.Button("Export CSV")
    csv_file = gr.File(label="Votes (CSV)", interactive=False)

    def checked(given):
        if not token_ok(given):
            raise gr.Error(REFUSED)

    def show_votes(given, raw_code):
        checked(given)
        return overview(store, class_code(raw_code))

    def refresh(given, raw_code):
        if not token_ok(given):  # a ticking page with a wrong token shows nothing, quietly
            return REFUSED
        return overview(store, class_code(raw_code))

    def start_round(given, raw_code, key):
        checked(given)
        if not key or " · " not in key:
            raise gr.Error("Pick the question that starts a new round.")
        lab, question = key.split(" · ", 1)
        try:
            store.new_round(lab, question, class_code(raw_code))
        except OSError as exc:
            raise gr.Error(str(exc)) from exc
        return overview(store, class_code(raw_code))

    def reset_class(given, raw_code):
        checked(given)
        try:
            store.reset(class_code(raw_code))
        except OSError as exc:
            raise gr.Error(str(exc)) from exc
        return overview(store, class_code(raw_code))

    def export_csv(given, raw_code):
        checked(given)
        code = class_code(raw_code)
        folder = tempfile.mkdtemp(prefix="playground-votes-")
        path = os.path.join(folder, f"votes-{code}.csv")
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(store.export_csv(code))
        return path

    show.click(show_votes, [token, code_box], view, api_name="classroom_votes")
    live.change(lambda on: gr.Timer(active=bool(on)), live, timer, api_visibility="private")
    timer.tick(refresh, [token, code_box], view, api_visibility="private", show_progress="hidden")
    new_round.click(start_round, [token, code_box, which], view, api_name="classroom_new_round")
    reset.click(reset_class, [token, code_box], view, api_name="classroom_reset")
    export.click(export_csv, [token, code_box], csv_file, api_name="classroom_export")
