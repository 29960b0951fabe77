"""The one helper every lab uses to show the class's votes beside its reveal.

In a lab's ``build``::

    votes = ClassVotes(ctx, "run", guess, revealed)   # where the bars go, next to the reveal
    ...
    event = run.click(...)
    votes.after(event)                       # record the vote and show the bars after the run

After a successful run the student's prediction (if any) is stored for their class and,
once they have voted this round, the class's distribution is shown; while an instructor
leads the question through its phases, the panel shows what the phase allows instead
(``phases``), and the page follows each phase change without a reload. The reveal the run
returned (the measured answer) is kept in the vote database, for the instructor view of
every replica: it is taken from the run's own return value, never from what a client sends.
While an instructor leads a question before its reveal, the run's answer is held back from
the student who ran it and given at the reveal (``RunWatch``).
Outside the shell (``ctx.classroom`` is None) both calls do nothing.
"""
from __future__ import annotations

import copy
import functools
import hashlib
import re
import threading
from collections import OrderedDict
from typing import Optional
from urllib.parse import parse_qs, urlparse

import gradio as gr
from gradio.context import Context, LocalContext

from playground.classroom.phases import CLOSED, HELD, HELD_PHASES, RELEASE, led_panel
from playground.classroom.store import (DEFAULT_CLASS, REVEAL, SHOW, TooManyVotes, VoteRefused, VoteStore, class_code,
                                        class_code_problem, not_a_class_code)
from playground.classroom.tally import bars

BROWSER_KEY = "playground-class-student"  # the browser's localStorage key for its anonymous id
_BROWSER_ID = re.compile(r"^[0-9a-f]{32}$")
POLL_SECONDS = 3.0  # how soon a phase the instructor sets reaches the students' pages
# A run's outputs held back while its question is led before the reveal: what shows its
# measurement, and the state that later buttons of the lab draw figures from
HELD_KINDS = (gr.Plot, gr.Markdown, gr.Dataframe, gr.Image, gr.Gallery, gr.JSON, gr.HTML, gr.Label, gr.Textbox,
              gr.Number, gr.File, gr.State)
CLASS_LINE = "Class **{code}**"  # heads every vote panel, so a student sees which class they vote in
WAITING = "*Pick a prediction before you run to see how your class voted.*"
NOT_STORED = ("⚠ *This vote was not counted: the server cannot write its vote database (the Instructor tab "
              "says why); your result above is unaffected.*")
# A poll whose session the server does not know: the server this page was on was restarted,
# or (several replicas behind a load balancer) died and another answers now.
SESSION_LOST = ("⚠ *The server this page was on restarted or went away, and another one answers now: "
                "models you trained on this page are gone (train again to use them). Your votes are kept.*")
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


def banner_text(request: gr.Request) -> str:
    """Which class the page's link puts the student in, for the Start page."""
    raw = requested_class(request)
    code, problem = class_code(raw), class_code_problem(raw)
    if problem:
        return f"⚠ {problem}"
    if code == DEFAULT_CLASS:
        return (f"Your votes count in the open class **{DEFAULT_CLASS}**. In a lecture, open your instructor's "
                "link (it ends in `?class=CODE`) to vote with your class.")
    return f"You are in class **{code}**: your predictions count in this class's votes."


class Classroom:
    """What the shell hands labs as ``ctx.classroom``: the vote store of this app, the browser's
    anonymous id and, when an instructor may lead (``led``), the poll that keeps every vote
    panel in its question's phase without a reload. Call ``follow`` once every lab is built."""

    def __init__(self, store: VoteStore, led: bool = False) -> None:
        self.store = store
        self.led = led
        # The id is kept encrypted in localStorage under a secret kept in the vote database,
        # so after a restart the stored id still opens: a reload is the same student.
        self.browser = gr.BrowserState(None, storage_key=BROWSER_KEY, secret=store.secret("browser-state"))
        self.panels: list[ClassVotes] = []
        self.banner: Optional[gr.Markdown] = None

    def class_banner(self) -> gr.Markdown:
        """A line, placed where it is called (the Start page), naming the page's class once it loads."""
        self.banner = gr.Markdown()
        return self.banner

    def follow(self, page: gr.Blocks) -> None:
        """Fill every vote panel when the page loads (each names its class) and, when ``led``,
        poll every ``POLL_SECONDS`` for phase changes: a panel is redrawn only when its
        question's phase or round changed since this page last drew it."""
        if self.banner is not None:
            page.load(banner_text, None, self.banner, api_visibility="private", queue=False)
        if not self.panels:
            return
        gr.api(self.api_vote, api_name="classroom_vote", queue=False)
        gr.api(self.api_tally, api_name="classroom_tally", queue=False)
        seen = gr.State({})  # "lab/question" -> [phase, round] as this page last drew it
        outputs = [panel.view for panel in self.panels] + [seen]
        page.load(self.redraw, [self.browser, seen], outputs, api_visibility="private", queue=False)
        if self.led:
            gr.Timer(POLL_SECONDS).tick(self.poll, [self.browser, seen], outputs, api_visibility="private",
                                        queue=False, show_progress="hidden")

    def redraw(self, stored_id: Optional[str], seen: Optional[dict], request: gr.Request):
        """Each panel's text where its phase changed since ``seen`` (else left as it is), and the new ``seen``."""
        code = request_class(request)
        student = student_id(browser_id(stored_id, request))
        phases = self.store.phases_of(code) if self.led else {}
        seen = dict(seen or {})
        updates = []
        for panel in self.panels:
            key, now = f"{panel.lab}/{panel.question}", list(phases.get((panel.lab, panel.question), ("", 0)))
            if seen.get(key) == now:
                updates.append(gr.skip())
                continue
            seen[key] = now
            updates.append(panel.class_text(None, student, code))
        return *updates, seen


    def poll(self, stored_id: Optional[str], seen: Optional[dict], request: gr.Request):
        """``redraw``, on the timer. The page's load filled ``seen``, which lives in the server's
        session; a poll that finds it empty reached a server that never saw this page (its own
        died or restarted), so every panel is redrawn headed by ``SESSION_LOST``: what lived in
        the lost session, such as a model the student trained, is gone."""
        *updates, seen_now = self.redraw(stored_id, seen, request)
        if not seen:
            updates = [f"{SESSION_LOST}\n\n{text}" if isinstance(text, str) else text for text in updates]
        return *updates, seen_now

    def _panel(self, lab: str, question: str, raw_code: str) -> tuple["ClassVotes", str]:
        """The panel of ``lab``'s ``question`` and the class code ``raw_code`` names; a clear
        error for a question that is none or a code that is no class code."""
        found = [panel for panel in self.panels if (panel.lab, panel.question) == (lab, question)]
        if not found:
            known = ", ".join(f"{panel.lab}/{panel.question}" for panel in self.panels)
            raise gr.Error(f"No question {question!r} in lab {lab!r}. The questions: {known}.", print_exception=False)
        problem = not_a_class_code(raw_code)
        if problem:
            raise gr.Error(f"The class code {problem}.", print_exception=False)
        return found[0], class_code(raw_code)

    def api_vote(self, lab: str, question: str, choice: str, class_code: str = "", browser: str = "",
                 request: gr.Request = None) -> tuple[str, str]:
        """Vote ``choice`` (a choice's key, e.g. "high") on ``lab``'s ``question`` in class
        ``class_code`` ("" for the class `default`), as the browser whose id is ``browser``
        (32 hex digits; "" for a new one). Returns the vote panel's text, as the page would show
        it in the question's phase, and the browser id to send with this student's next call."""
        panel, code = self._panel(lab, question, class_code)
        browser = browser_id(browser, request)
        return panel.class_text(choice, student_id(browser), code), browser

    def api_tally(self, lab: str, question: str, class_code: str = "", browser: str = "") -> dict:
        """The votes on ``lab``'s ``question`` in class ``class_code`` ("" for `default`): its
        phase ("self-paced" when no instructor leads it), round and number of votes, and the
        counts per choice where the page would show them (once ``browser`` has voted this round,
        when self-paced; in "show" and "reveal" when led), else None."""
        panel, code = self._panel(lab, question, class_code)
        phase, round_, _ = self.store.phase(lab, question, code) if self.led else ("", 1, "")
        counts = self.store.distribution(lab, question, code)
        student = student_id(browser if isinstance(browser, str) and _BROWSER_ID.match(browser) else "")
        visible = phase in (SHOW, REVEAL) or (not phase and bool(student)
                                              and self.store.has_voted(lab, question, student, code))
        return {"class": code, "lab": lab, "question": question, "phase": phase or "self-paced", "round": round_,
                "votes": sum(counts.values()), "counts": counts if visible else None}


class ClassVotes:
    """A lab question's class distribution, placed where it is created (see the module docstring)."""

    def __init__(self, ctx, question: str, prediction: gr.Radio, reveal: gr.Markdown) -> None:
        room: Optional[Classroom] = getattr(ctx, "classroom", None)
        self.store = room.store if room is not None else None
        self.browser = room.browser if room is not None else None
        self.led = room.led if room is not None else False
        self.lab, self.question, self.prediction, self.reveal = ctx.lab_id, question, prediction, reveal
        self.view = self.release = None
        if self.store is None:
            return
        choices = [(str(label), str(value)) for label, value in prediction.choices]
        self.labels = dict((value, label) for label, value in choices)
        self.asked = self.store.register(self.lab, question, str(prediction.label or question),
                                         [v for _, v in choices], [label for label, _ in choices])
        self.view = gr.Markdown()
        self.release = gr.Button(RELEASE, size="sm", visible=False) if self.led else None
        room.panels.append(self)

    def vote_and_show(self, choice: Optional[str], stored_id: Optional[str], request: gr.Request):
        """Record ``choice`` (if any) for this browser and class; the bars once it has voted.
        Returns the text and the browser's id (for its localStorage)."""
        browser, raw = browser_id(stored_id, request), requested_class(request)
        text = self.class_text(choice, student_id(browser), class_code(raw))
        problem = class_code_problem(raw)
        return (f"⚠ *{problem}*\n\n{text}" if problem else text), browser

    def class_text(self, choice: Optional[str], student: str, code: str) -> str:
        """The panel after ``student`` voted ``choice`` (None: no vote), headed by the class's
        name. Self-paced: the class's bars once they have voted this round, else why not. Led
        by an instructor: what the question's phase shows (``phases.led_panel``). A vote that
        was not counted (voting closed, too many a minute, a database that cannot be written)
        says so first."""
        phase, round_, measured = self.store.phase(self.lab, self.question, code) if self.led else ("", 1, "")
        not_counted = ""
        if choice and student:
            not_counted = CLOSED if phase in (SHOW, REVEAL) else self._record(str(choice), student, code)
        if phase:
            shown = led_panel(self.store, self.asked, code, student, phase, round_, measured)
        elif not student or not self.store.has_voted(self.lab, self.question, student, code):
            shown = "" if not_counted else WAITING
        else:
            title = "How your class voted" if code == DEFAULT_CLASS else f"How class {code} voted"
            mine = None if not_counted else choice  # a vote not counted is not the one in the bars
            shown = bars(self.store.distribution(self.lab, self.question, code), mine, self.labels, title)
        return "\n\n".join(part for part in (CLASS_LINE.format(code=code), not_counted, shown) if part)

    def _record(self, choice: str, student: str, code: str) -> str:
        """Store the vote; "" when it counted, else the line that says why not."""
        try:
            if not self.store.record(self.lab, self.question, choice, student, code):
                return NOT_STORED
        except TooManyVotes:
            return TOO_MANY.format(limit=self.store.votes_per_minute)
        except VoteRefused as exc:  # a crafted call: an unknown choice or question
            raise gr.Error(str(exc), print_exception=False) from exc
        return ""

    def after(self, event) -> None:
        """Chain the vote and the bars after ``event`` (a run's click), when it succeeds."""
        if self.store is None:
            return
        watch = RunWatch.of(event)
        watch.panels.append(self)
        event.success(self.vote_and_show, [self.prediction, self.browser], [self.view, self.browser],
                      api_name=f"{self.lab}_class_{self.question}", queue=False)
        if self.release is None:
            return

        def offer(request: gr.Request):  # the release button, where this session's run was held back
            return gr.update(visible=watch.holds(request))

        def release(request: gr.Request):  # shown once, at the reveal; then the button goes
            return *watch.released(request), gr.update(visible=watch.holds(request))

        event.success(offer, None, self.release, api_visibility="private", queue=False)
        self.release.click(release, None, [*watch.shown, self.release], api_visibility="private")  # queued: its toast


class RunWatch:
    """Wraps a run's function once, for every question voted after that run (a lab may ask
    two about one run). Each question's reveal the run returns is noted for the instructor,
    under the class of the request that ran it. While an instructor leads one of those
    questions in a phase before its reveal (``HELD_PHASES``), the run is held back: its
    reveals say so (``HELD``); its plots, tables, texts, files and states (``HELD_KINDS``) are
    given the values the page had before any run, so neither the page nor a later button of
    the lab that draws from the run's state shows the answer; other outputs (a model list)
    pass. The result itself is kept for the session (the latest ``KEEP`` sessions) until the
    student asks for it at the reveal (``released``): a training run need not run again."""

    KEEP = 40  # held results kept per run, one per session: a class, and then some

    def __init__(self, block_fn, outputs: list) -> None:
        self.run = block_fn.fn
        self.outputs = [Context.root_block.blocks[i] for i in outputs]
        self.shown = [block for block in self.outputs if isinstance(block, HELD_KINDS)]  # given back at the reveal
        self.panels: list[ClassVotes] = []
        self.kept: OrderedDict[str, object] = OrderedDict()  # session -> what the run returned
        self.lock = threading.Lock()

        @functools.wraps(self.run)  # gradio reads the run's own signature (its request, its progress)
        def run_and_note(*args, **kwargs):
            return self.run_and_note(*args, **kwargs)

        block_fn.fn = run_and_note

    @classmethod
    def of(cls, event) -> "RunWatch":
        """The watch of ``event``'s function, made on its first question."""
        block_fn = Context.root_block.fns[event["id"]]
        if getattr(block_fn, "playground_watch", None) is None:
            block_fn.playground_watch = cls(block_fn, event["outputs"])
        return block_fn.playground_watch

    def run_and_note(self, *args, **kwargs):
        outputs = self.run(*args, **kwargs)
        request = LocalContext.request.get(None)
        code = request_class(request)
        for panel in self.panels:
            reveal = self.value_of(outputs, panel.reveal)
            if isinstance(reveal, str) and reveal.strip():
                panel.store.note_measured(panel.lab, panel.question, reveal, code)
        held = self.held_panels(code)
        session = getattr(request, "session_hash", None) or ""
        with self.lock:
            self.kept.pop(session, None)
            if held and session:
                self.kept[session] = outputs
                while len(self.kept) > self.KEEP:
                    self.kept.popitem(last=False)
        return self.hold(outputs) if held else outputs

    def held_panels(self, code: str) -> list["ClassVotes"]:
        """This run's questions that an instructor leads in class ``code`` in a phase before the reveal."""
        return [panel for panel in self.panels
                if panel.led and panel.store.phase(panel.lab, panel.question, code)[0] in HELD_PHASES]

    def holds(self, request: Optional[gr.Request]) -> bool:
        """Whether a result of this run is held back for the request's session."""
        return bool(getattr(request, "session_hash", None)) and request.session_hash in self.kept

    def released(self, request: gr.Request) -> list:
        """The held result of the request's session, for ``shown``, once none of its questions
        is held in the request's class any more; before that, a warning and nothing changed."""
        skip = [gr.skip() for _ in self.shown]
        outputs = self.kept.get(getattr(request, "session_hash", None) or "")
        if outputs is None:
            gr.Warning("No result is held back for this page: run the lab to see one.")
            return skip
        if self.held_panels(request_class(request)):
            gr.Warning("Your run's result is held back until your instructor's reveal.")
            return skip
        with self.lock:
            self.kept.pop(request.session_hash, None)
        return [self.value_of(outputs, block, gr.skip()) for block in self.shown]

    def value_of(self, outputs, block, missing=None):
        """What the run returned for ``block`` (``missing`` where it returned nothing for it)."""
        if isinstance(outputs, dict):
            return outputs.get(block, missing)
        if not isinstance(outputs, (list, tuple)):
            return outputs if self.outputs == [block] else missing
        at = [i for i, candidate in enumerate(self.outputs) if candidate is block]
        return outputs[at[0]] if at else missing

    def hold(self, outputs):
        """``outputs`` with the answer held back (see the class's docstring): one question led
        holds the whole run, since its figures answer every question asked about it."""
        reveals = {panel.reveal._id for panel in self.panels}

        def held_value(block, value):
            if block._id in reveals:
                return HELD
            return copy.deepcopy(block.value) if isinstance(block, HELD_KINDS) else value  # as before any run

        if isinstance(outputs, dict):
            return {block: held_value(block, value) for block, value in outputs.items()}
        if not isinstance(outputs, (list, tuple)):
            return held_value(self.outputs[0], outputs)
        return type(outputs)(held_value(block, value) for block, value in zip(self.outputs, outputs))
