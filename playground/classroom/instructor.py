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

from playground.classroom.store import (DEFAULT_CLASS, PHASES, REVEAL, REVOTE, SHOW, VOTING, Question, VotesUnwritable,
                                        VoteStore, class_code, not_a_class_code)
from playground.classroom.tally import bar, bars, measured_text
from playground.classroom.ui import requested_class

TOKEN_ENV = "PLAYGROUND_INSTRUCTOR_TOKEN"
REFUSED = "Wrong or missing instructor token: nothing is shown."
LIVE_SECONDS = 5.0
# Peer instruction, one question at a time: students vote alone, discuss the spread, vote
# again, then see the answer. A question no button was pressed for stays self-paced.
PHASE_NAMES = {VOTING: "voting (the spread hidden)", SHOW: "votes shown", REVOTE: "re-vote (a new round)",
               REVEAL: "answer revealed"}
PHASE_BUTTONS = {VOTING: "1 · Voting", SHOW: "2 · Show votes", REVOTE: "3 · Re-vote (new round)", REVEAL: "4 · Reveal"}
PHASE_API = {VOTING: "classroom_voting", SHOW: "classroom_show_votes", REVOTE: "classroom_new_round",
             REVEAL: "classroom_reveal"}


def instructor_token() -> str:
    return os.environ.get(TOKEN_ENV, "")


def token_ok(given: Optional[str]) -> bool:
    expected = instructor_token()
    return bool(expected) and hmac.compare_digest(str(given or "").encode(), expected.encode())


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
        phase, round_, _ = store.phase(lab, question, code)
        counts = store.distribution(lab, question, code)
        measured = store.measured.get((code, lab, question))
        if not sum(counts.values()) and not measured and round_ == 1 and not phase:
            quiet.append(f"{lab} · {question}")
            continue
        if measured:
            answer = measured_text(q, measured, "the latest run in this class; its student's own verdict left out")
        else:
            answer = "*No run in this class yet.*"
        led = f", {PHASE_NAMES[phase]}" if phase else ", self-paced"
        parts.append(f"### {q.text}\n`{lab} · {question}`, round {round_}{led}\n\n"
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
        which = gr.Dropdown(keys, value=None, label="Question to lead", scale=2, filterable=True,
                            info="its phase reaches every student's page within seconds")
        phase_buttons = {phase: gr.Button(PHASE_BUTTONS[phase], min_width=120) for phase in PHASES}
    with gr.Row():
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

    def lead(phase):
        def set_phase(given, raw_code, key):
            checked(given)
            code, problem = typed_class(raw_code)
            if problem:
                return refused(problem), gr.skip()
            if not key or " · " not in key or tuple(key.split(" · ", 1)) not in store.questions:
                return refused("Pick the question to lead first (the list left of the buttons)."), gr.skip()
            lab, question = key.split(" · ", 1)
            try:
                round_ = store.set_phase(lab, question, phase, code, measured=store.measured.get((code, lab, question), ""))
            except VotesUnwritable as exc:
                unchanged = "No new round started." if phase == REVOTE else "The phase did not change."
                return refused(f"{unchanged} {exc}"), gr.skip()
            gr.Info(f"\"{store.questions[(lab, question)].text}\" ({lab}), class {code}: "
                    f"{PHASE_NAMES[phase]}, round {round_}. Students' pages follow within seconds.")
            # after a new round an export made before it no longer tells the whole story
            return overview(store, code), (None if phase == REVOTE else gr.skip())
        return set_phase

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
    for phase, button in phase_buttons.items():
        button.click(lead(phase), [token, code_box, which], [view, csv_file], api_name=PHASE_API[phase])
    # the box is no output of the reset itself: a refused reset (a wrong token) leaves it clickable
    reset.click(reset_class, [token, code_box, sure], [view, csv_file], api_name="classroom_reset").success(
        lambda: False, None, sure, api_visibility="private", queue=False)
    export.click(export_csv, [token, code_box], csv_file, api_name="classroom_export")
    if page is not None:
        page.load(from_link, None, code_box, api_visibility="private", queue=False)
