"""The one helper every lab uses to show the class's votes beside its reveal.

In a lab's ``build``::

    votes = ClassVotes(ctx, "run", guess, revealed)   # where the bars go, next to the reveal
    ...
    event = run.click(...)
    votes.after(event)                       # record the vote and show the bars after the run

After a successful run the student's prediction (if any) is stored for their class and,
once they have voted this round, the class's distribution is shown. The reveal the run
returned (the measured answer) is kept on the server, in memory, for the instructor
view: it is taken from the run's own return value, never from what a client sends.
Outside the shell (``ctx.classroom`` is None) both calls do nothing.
"""
from __future__ import annotations

import functools
import hashlib
import re
from typing import Optional
from urllib.parse import parse_qs, urlparse

import gradio as gr
from gradio.context import Context, LocalContext

from playground.classroom.store import DEFAULT_CLASS, TooManyVotes, VoteRefused, VoteStore, class_code, class_code_problem

BAR_WIDTH = 20
BROWSER_KEY = "playground-class-student"  # the browser's localStorage key for its anonymous id
_BROWSER_ID = re.compile(r"^[0-9a-f]{32}$")
WAITING = "*Pick a prediction before you run to see how your class voted.*"
NOT_STORED = ("⚠ *This vote was not counted: the server cannot write its vote database (the Instructor tab "
              "says why); your result above is unaffected.*")
TOO_MANY = ("⚠ *This vote was not counted: a browser can vote at most {limit} times a minute; wait a minute, "
            "then run again to vote. Your result above is unaffected.*")


def browser_id(stored: Optional[str], request: Optional[gr.Request]) -> str:
    """The browser's anonymous id: the one its localStorage holds, else a new one (derived
    from this session, so one session without storage, an API client, keeps one id)."""
    if isinstance(stored, str) and _BROWSER_ID.match(stored):
        return stored
    session = getattr(request, "session_hash", None) or ""
    return hashlib.sha256(f"playground-browser:{session}".encode()).hexdigest()[:32] if session else ""


def student_id(browser: str) -> str:
    """What the database stores for a student: a hash of the browser's id, never the id itself."""
    return hashlib.sha256(f"playground-class:{browser}".encode()).hexdigest()[:16] if browser else ""


def requested_class(request: Optional[gr.Request]) -> str:
    """The page's ``?class=`` as typed (the request's own query, else its Referer); "" without one."""
    if request is None:
        return ""
    code = (getattr(request, "query_params", None) or {}).get("class")
    if not code:
        referer = (getattr(request, "headers", None) or {}).get("referer", "")
        code = (parse_qs(urlparse(referer).query).get("class") or [None])[0]
    return code or ""


def request_class(request: Optional[gr.Request]) -> str:
    """The class code of the request's page (see ``store.class_code``)."""
    return class_code(requested_class(request))


def bar(n: int, total: int) -> str:
    """``n`` of ``total`` votes as a bar and its share: "`████░░…` 20% (1)"."""
    share = n / total if total else 0.0
    filled = round(share * BAR_WIDTH)
    return f"`{'█' * filled}{'░' * (BAR_WIDTH - filled)}` {share:.0%} ({n})"


def bars(counts: dict, mine: Optional[str] = None, labels: Optional[dict] = None, title: str = "How your class voted") -> str:
    """Markdown bars: one line per choice, its share of the votes, the student's own marked."""
    total = sum(counts.values())
    lines = [f"**{title}** ({total} vote{'s' if total != 1 else ''}):", ""]
    for choice, n in counts.items():
        you = " ← you" if choice == mine else ""
        lines.append(f"- {bar(n, total)} {(labels or {}).get(choice, choice)}{you}")
    return "\n".join(lines)


class Classroom:
    """What the shell hands labs as ``ctx.classroom``: the vote store of this app."""

    def __init__(self, store: VoteStore) -> None:
        self.store = store
        self.browser = gr.BrowserState(None, storage_key=BROWSER_KEY)  # the anonymous id, kept across reloads


class ClassVotes:
    """A lab question's class distribution, placed where it is created (see the module docstring)."""

    def __init__(self, ctx, question: str, prediction: gr.Radio, reveal: gr.Markdown) -> None:
        room: Optional[Classroom] = getattr(ctx, "classroom", None)
        self.store = room.store if room is not None else None
        self.browser = room.browser if room is not None else None
        self.lab, self.question, self.prediction, self.reveal = ctx.lab_id, question, prediction, reveal
        self.view = None
        if self.store is None:
            return
        choices = [(str(label), str(value)) for label, value in prediction.choices]
        self.labels = dict((value, label) for label, value in choices)
        self.store.register(self.lab, question, str(prediction.label or question), [v for _, v in choices],
                            [label for label, _ in choices])
        self.view = gr.Markdown()

    def vote_and_show(self, choice: Optional[str], stored_id: Optional[str], request: gr.Request):
        """Record ``choice`` (if any) for this browser and class; the bars once it has voted.
        Returns the text and the browser's id (for its localStorage)."""
        browser, raw = browser_id(stored_id, request), requested_class(request)
        text = self.class_text(choice, student_id(browser), class_code(raw))
        problem = class_code_problem(raw)
        return (f"⚠ *{problem}*\n\n{text}" if problem else text), browser

    def class_text(self, choice: Optional[str], student: str, code: str) -> str:
        """The class's bars once ``student`` has voted this round, else why not; a vote that was
        not counted (too many a minute, a database that cannot be written) says so first."""
        not_counted = ""
        if choice and student:
            try:
                if not self.store.record(self.lab, self.question, str(choice), student, code):
                    not_counted = NOT_STORED
            except TooManyVotes:
                not_counted = TOO_MANY.format(limit=self.store.votes_per_minute)
            except VoteRefused as exc:  # a crafted call: an unknown choice or question
                raise gr.Error(str(exc), print_exception=False) from exc
        if not student or not self.store.has_voted(self.lab, self.question, student, code):
            return not_counted or WAITING
        title = "How your class voted" if code == DEFAULT_CLASS else f"How class {code} voted"
        mine = None if not_counted else choice  # a vote not counted is not the one in the bars
        shown = bars(self.store.distribution(self.lab, self.question, code), mine, self.labels, title)
        return f"{not_counted}\n\n{shown}" if not_counted else shown

    def after(self, event) -> None:
        """Chain the vote and the bars after ``event`` (a run's click), when it succeeds."""
        if self.store is None:
            return
        self._note_reveals_of(event)
        event.success(self.vote_and_show, [self.prediction, self.browser], [self.view, self.browser],
                      api_name=f"{self.lab}_class_{self.question}", queue=False)

    def _note_reveals_of(self, event) -> None:
        """Wrap ``event``'s function so that the reveal it returns is noted for the
        instructor, under the class of the request that ran it."""
        block_fn = Context.root_block.fns[event["id"]]
        position = event["outputs"].index(self.reveal._id)
        run = block_fn.fn

        @functools.wraps(run)
        def run_and_note(*args, **kwargs):
            outputs = run(*args, **kwargs)
            if isinstance(outputs, dict):
                reveal = outputs.get(self.reveal)
            else:
                reveal = outputs[position] if isinstance(outputs, (list, tuple)) else outputs
            if isinstance(reveal, str) and reveal.strip():
                code = request_class(LocalContext.request.get(None))
                self.store.note_measured(self.lab, self.question, reveal, code)
            return outputs

        block_fn.fn = run_and_note
