"""The instructor view: a tab that exists only when ``PLAYGROUND_INSTRUCTOR_TOKEN`` is
set. Every action takes the token and compares it in constant time; a wrong one shows
nothing. It reads and changes only the class code typed in."""
from __future__ import annotations

import hmac
import os
import tempfile
import time
from typing import Optional

import gradio as gr

from playground.classroom.store import DEFAULT_CLASS, Question, VotesUnwritable, VoteStore, class_code, not_a_class_code
from playground.contract.verdict import measured_answer, without_verdict
from playground.classroom.ui import bar, bars, requested_class

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


def measured_choice(q: Question, reveal: str) -> Optional[str]:
    """The choice (as the page shows it) that ``reveal`` measured, "A or B" for a tie; None when
    its answer is none of ``q``'s choices or it gives none."""
    answer = measured_answer(reveal)
    if not answer:
        return None
    shown = {text.lower(): label for choice, label in q.label_of().items() for text in (choice, label)}
    found = [shown.get(part.strip().lower()) for part in answer.split(" or ")]
    return " or ".join(found) if all(found) else None


def votes_text(store: VoteStore, q: Question, code: str, round_: int) -> str:
    """This round's bars; from round 2 on, each choice's share in the round before beside it."""
    now = store.distribution(q.lab, q.question, code)
    if round_ == 1:
        return bars(now, labels=q.label_of(), title="Votes")
    before = store.distribution(q.lab, q.question, code, round_=round_ - 1)
    n_before, n_now = sum(before.values()), sum(now.values())
    lines = [f"**Votes: round {round_ - 1} → round {round_}** ({n_before} → {n_now} "
             f"vote{'s' if n_now != 1 else ''}):", ""]
    for choice, label in q.label_of().items():
        lines.append(f"- {bar(before.get(choice, 0), n_before)} → {bar(now.get(choice, 0), n_now)} {label}")
    return "\n".join(lines)


def overview(store: VoteStore, code: str) -> str:
    """The questions of class ``code`` that have votes this round, a run or a later round, in
    tab order: each one's distribution (beside the round before, after a new round) and the
    measured answer; the others in one line."""
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
        if measured:
            choice = measured_choice(q, measured)
            answer = (f"**Measured: {choice}**\n\n" if choice else "**Measured:**\n\n") + (
                "*(the latest run in this class; its student's own verdict left out)*\n\n"
                f"{_quoted(without_verdict(measured))}")
        else:
            answer = "*No run in this class yet.*"
        parts.append(f"### {q.text}\n`{lab} · {question}`, round {round_}\n\n"
                     f"{votes_text(store, q, code, round_)}\n\n{answer}")
    if len(parts) == 1 + bool(store.problem):
        parts.append("*No votes and no runs in this class yet.* Students join with the link `?class=" + code + "`.")
    if quiet:
        parts.append(f"*No votes or runs yet:* {', '.join(quiet)}.")
    return "\n\n".join(parts)


def votes_csv(store: VoteStore, code: str) -> str:
    """Class ``code``'s votes as a file, for the download: the store's CSV as it is. Its name
    says when it was made (``votes-bio1-2026-05-04_10-30-00-UTC.csv``): votes cast later are not in it."""
    folder = tempfile.mkdtemp(prefix="playground-votes-")
    path = os.path.join(folder, f"votes-{code}-{time.strftime('%Y-%m-%d_%H-%M-%S', time.gmtime())}-UTC.csv")
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(store.export_csv(code))
    return path


def typed_class(raw_code: Optional[str]) -> tuple[str, str]:
    """``(code, "")`` for the class code the instructor typed; ``(DEFAULT_CLASS, why)`` when it
    is no class code, and then the actions do nothing (no other class is touched)."""
    problem = not_a_class_code(raw_code)
    if problem:
        return DEFAULT_CLASS, (f"The class code {problem}: nothing was shown or changed. Type the code of "
                               "your students' link (its `?class=`), or leave it empty for the default class.")
    return class_code(raw_code), ""


def refused(message: str) -> str:
    """An instructor's action that did nothing: ``message`` as a warning, and for the view."""
    gr.Warning(message)
    return f"⚠ {message}"


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
        code, problem = typed_class(raw_code)
        return refused(problem) if problem else overview(store, code)

    def refresh(given, raw_code):
        if not token_ok(given):  # a ticking page with a wrong token shows nothing, quietly
            return REFUSED
        code, problem = typed_class(raw_code)
        return f"⚠ {problem}" if problem else overview(store, code)

    def start_round(given, raw_code, key):
        checked(given)
        code, problem = typed_class(raw_code)
        if problem:
            return refused(problem), gr.skip()
        if not key or " · " not in key:
            return refused("Pick the question to re-vote first (the list left of the button)."), gr.skip()
        lab, question = key.split(" · ", 1)
        try:
            round_ = store.new_round(lab, question, code)
        except VotesUnwritable as exc:
            return refused(f"No new round started. {exc}"), gr.skip()
        gr.Info(f"Round {round_} of \"{store.questions[(lab, question)].text}\" ({lab}) started in class {code}: "
                "students vote again.")
        return overview(store, code), None  # an export made before it no longer tells the whole story

    def reset_class(given, raw_code, confirmed):
        checked(given)
        code, problem = typed_class(raw_code)
        if problem:
            return refused(problem), gr.skip()
        if not confirmed:
            return refused("Tick \"Yes, delete this class's votes\" first: a reset cannot be undone. "
                           "Nothing was deleted."), gr.skip()
        try:
            gone = store.reset(code)
        except VotesUnwritable as exc:
            return refused(f"Nothing was deleted. {exc}"), gr.skip()
        gr.Info(f"Class {code}: {gone} vote{'s' if gone != 1 else ''} deleted.")
        return overview(store, code), None

    def export_csv(given, raw_code):
        checked(given)
        code, problem = typed_class(raw_code)
        if problem:
            refused(problem)
            return gr.skip()
        return votes_csv(store, code)

    def from_link(request: gr.Request):
        raw = requested_class(request)
        if not raw:
            return gr.skip()
        return raw.strip() if not_a_class_code(raw) else class_code(raw)  # a bad code is shown as typed, then refused

    show.click(show_votes, [token, code_box], view, api_name="classroom_votes")
    live.change(lambda on: gr.Timer(active=bool(on)), live, timer, api_visibility="private")
    timer.tick(refresh, [token, code_box], view, api_visibility="private", show_progress="hidden")
    code_box.change(lambda: None, None, csv_file, api_visibility="private")  # no other class's file on offer
    new_round.click(start_round, [token, code_box, which], [view, csv_file], api_name="classroom_new_round")
    # the box is no output of the reset itself: a refused reset (a wrong token) leaves it clickable
    reset.click(reset_class, [token, code_box, sure], [view, csv_file], api_name="classroom_reset").success(
        lambda: False, None, sure, api_visibility="private", queue=False)
    export.click(export_csv, [token, code_box], csv_file, api_name="classroom_export")
    if page is not None:
        page.load(from_link, None, code_box, api_visibility="private", queue=False)
