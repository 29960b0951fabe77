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
from ..verdict import without_verdict
from .ui import bars, requested_class

TOKEN_ENV = "PLAYGROUND_INSTRUCTOR_TOKEN"
REFUSED = "Wrong or missing instructor token: nothing is shown."
LIVE_SECONDS = 5.0


def instructor_token() -> str:
    return os.environ.get(TOKEN_ENV, "")


def token_ok(given: Optional[str]) -> bool:
    expected = instructor_token()
    return bool(expected) and hmac.compare_digest(str(given or "").encode(), expected.encode())


def _quoted(text: str) -> str:
    return "> " + text.replace("\n", "\n> ")


def overview(store: VoteStore, code: str) -> str:
    """The questions of class ``code`` that have votes this round, a run or a later round, in
    tab order: each one's distribution beside the measured answer; the others in one line."""
    parts = [f"## Class `{code}`"]
    if store.problem:
        parts.append(f"⚠ {store.problem}")
    quiet = []
    for (lab, question), q in store.questions.items():
        round_ = store.current_round(lab, question, code)
        counts = store.distribution(lab, question, code)
        measured = store.measured.get((code, lab, question))
        if not sum(counts.values()) and not measured and round_ == 1:
            quiet.append(f"{lab} · {question}")
            continue
        answer = (f"**Measured** (the latest run in this class; its student's own verdict left out):\n\n"
                  f"{_quoted(without_verdict(measured))}" if measured else "*No run in this class yet.*")
        parts.append(f"### {q.text}\n`{lab} · {question}`, round {round_}\n\n"
                     f"{bars(counts, labels=q.label_of(), title='Votes')}\n\n{answer}")
    if len(parts) == 1 + bool(store.problem):
        parts.append("*No votes and no runs in this class yet.* Students join with the link `?class=" + code + "`.")
    if quiet:
        parts.append(f"*No votes or runs yet:* {', '.join(quiet)}.")
    return "\n\n".join(parts)


def votes_csv(store: VoteStore, code: str) -> str:
    """Class ``code``'s votes as a file, for the download: the store's CSV as it is."""
    folder = tempfile.mkdtemp(prefix="playground-votes-")
    path = os.path.join(folder, f"votes-{code}.csv")
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(store.export_csv(code))
    return path


def build_instructor_tab(store: VoteStore, page: Optional[gr.Blocks] = None) -> None:
    """The tab's components and events; ``page`` (the app's Blocks) fills the class code from
    the page's ``?class=`` when it loads."""
    gr.Markdown("For the instructor: your token and your class code (the `?class=` of the students' link; "
                "empty for the default class). Nothing is shown without the token.")
    with gr.Row():
        token = gr.Textbox(label="Instructor token", type="password", scale=2)
        code_box = gr.Textbox(label="Class code", placeholder="default", scale=1)
        show = gr.Button("Show the class's votes", variant="primary")
        live = gr.Checkbox(label=f"Refresh every {LIVE_SECONDS:g} s", value=False,
                           info="keep it on while the class votes")
    # each question by its own words (as the students read it); the value is "lab · question"
    keys = [(f"{lab}: {q.text}", f"{lab} · {question}") for (lab, question), q in store.questions.items()]
    with gr.Row():
        which = gr.Dropdown(keys, value=None, label="Question to re-vote", scale=2, filterable=True)
        new_round = gr.Button("New round (students re-vote)")
        export = gr.Button("Export CSV")
        with gr.Column(min_width=200):
            sure = gr.Checkbox(label="Yes, delete this class's votes", value=False)
            reset = gr.Button("Reset this class", variant="stop")
    csv_file = gr.File(label="Votes (CSV)", interactive=False, height=80)
    view = gr.Markdown()
    timer = gr.Timer(LIVE_SECONDS, active=False)

    def checked(given):
        if not token_ok(given):
            raise gr.Error(REFUSED, print_exception=False)

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
            raise gr.Error("Pick the question to re-vote first (the list left of the button).", print_exception=False)
        lab, question = key.split(" · ", 1)
        code = class_code(raw_code)
        try:
            round_ = store.new_round(lab, question, code)
        except OSError as exc:
            raise gr.Error(str(exc)) from exc
        gr.Info(f"Round {round_} of \"{store.questions[(lab, question)].text}\" ({lab}) started in class {code}: "
                "students vote again.")
        return overview(store, code)

    def reset_class(given, raw_code, confirmed):
        checked(given)
        if not confirmed:
            raise gr.Error("Tick \"Yes, delete this class's votes\" first: a reset cannot be undone.",
                           print_exception=False)
        code = class_code(raw_code)
        try:
            gone = store.reset(code)
        except OSError as exc:
            raise gr.Error(str(exc)) from exc
        gr.Info(f"Class {code}: {gone} vote{'s' if gone != 1 else ''} deleted.")
        return overview(store, code), False, None

    def export_csv(given, raw_code):
        checked(given)
        return votes_csv(store, class_code(raw_code))

    def from_link(request: gr.Request):
        raw = requested_class(request)
        return class_code(raw) if raw else gr.skip()

    show.click(show_votes, [token, code_box], view, api_name="classroom_votes")
    live.change(lambda on: gr.Timer(active=bool(on)), live, timer, api_visibility="private")
    timer.tick(refresh, [token, code_box], view, api_visibility="private", show_progress="hidden")
    code_box.change(lambda: None, None, csv_file, api_visibility="private")  # no other class's file on offer
    new_round.click(start_round, [token, code_box, which], view, api_name="classroom_new_round")
    reset.click(reset_class, [token, code_box, sure], [view, sure, csv_file], api_name="classroom_reset")
    export.click(export_csv, [token, code_box], csv_file, api_name="classroom_export")
    if page is not None:
        page.load(from_link, None, code_box, api_visibility="private", queue=False)
