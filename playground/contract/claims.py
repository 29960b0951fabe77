"""Directional claims as data: a sentence that states a direction ("position is kept",
"the smallest τ is the least uniform", "raw pixels beat the trained encoder") is
declared once, with the predicate over a run's figures that decides it, and the
words for each outcome. A reveal takes its sentence from ``claim.words(figures)``,
so a run that comes out the other way says so; a test evaluates every declared
claim on several runs and checks that the text says what the figures show.

A claim with a single wording is stated as a general finding: its outcome must be
the same on every run it is tested on. A claim with several wordings is worded per
run.

Two figures closer than the tie band are a tie, never a direction: ``compare``
decides it, the one helper every claim's predicate uses. No gradio here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Mapping, Sequence

Figures = Mapping[str, float]

HIGHER, TIE, LOWER = "higher", "tie", "lower"


def compare(a: float, b: float, within: float) -> str:
    """``HIGHER`` when ``a`` exceeds ``b`` by more than ``within``, ``LOWER`` when it
    falls short by more than that, else ``TIE`` (inside the band: not a direction)."""
    if within < 0:
        raise ValueError(f"a tie band cannot be negative, got {within}.")
    if a > b + within:
        return HIGHER
    if a < b - within:
        return LOWER
    return TIE


@dataclass(frozen=True)
class Claim:
    """One directional sentence. ``outcome(figures)`` names which of ``wordings``
    this run supports; each wording is a ``str.format`` template over the figures
    (e.g. ``"{attribute} stayed at {with_crop:.0%}"``). ``source``: the paper the
    claim is held against, if any."""

    id: str
    outcome: Callable[[Figures], str]
    wordings: Mapping[str, str]
    source: str = ""

    @property
    def general(self) -> bool:
        """True when the claim has one wording: stated as holding on every run."""
        return len(self.wordings) == 1

    def decide(self, figures: Figures) -> str:
        """The outcome for ``figures``; a ValueError when no wording covers it."""
        found = self.outcome(figures)
        if found not in self.wordings:
            raise ValueError(f"claim {self.id!r}: this run's outcome {found!r} has no wording "
                             f"(it has {', '.join(self.wordings)}).")
        return found

    def words(self, figures: Figures) -> str:
        """The sentence this run supports, its figures filled in."""
        return self.wordings[self.decide(figures)].format(**figures)


class Claims:
    """A lab's declared claims, by id, in declaration order."""

    def __init__(self) -> None:
        self._claims: dict[str, Claim] = {}

    def declare(self, id: str, outcome: Callable[[Figures], str], wordings: Mapping[str, str],
                source: str = "") -> Claim:
        """Declare a claim once (a second claim with the same id is an error)."""
        if id in self._claims:
            raise ValueError(f"claim {id!r} is declared twice.")
        if not wordings:
            raise ValueError(f"claim {id!r} needs at least one wording.")
        claim = Claim(id, outcome, dict(wordings), source)
        self._claims[id] = claim
        return claim

    def __getitem__(self, id: str) -> Claim:
        return self._claims[id]

    def __iter__(self) -> Iterator[Claim]:
        return iter(self._claims.values())

    def __len__(self) -> int:
        return len(self._claims)


@dataclass(frozen=True)
class Evidence:
    """One run, for ``audit``: its ``name`` (the setting, for messages), the ``text`` the
    lab showed for it (a reveal, a summary) and, per claim id, that claim's figures."""

    name: str
    text: str
    figures: Mapping[str, Figures]


def audit(claims: Claims, runs: Sequence[Evidence], min_runs: int = 4) -> list[str]:
    """Every way the text of ``runs`` departs from ``claims`` (empty: none):
    a claim evaluated on fewer than ``min_runs`` runs (the default run and three others),
    a run whose text lacks the wording its figures select, and a run whose outcome has no
    wording (for a general claim, one with a single wording: it does not hold on that run)."""
    problems = []
    for claim in claims:
        seen = [run for run in runs if claim.id in run.figures]
        if len(seen) < min_runs:
            problems.append(f"{claim.id}: evaluated on {len(seen)} run(s), needs {min_runs}")
        for run in seen:
            try:
                outcome = claim.decide(run.figures[claim.id])
            except ValueError as err:  # a general claim that does not hold here lands here too
                problems.append(f"{run.name}: {err}" + (" It is stated as general: word it per run."
                                                        if claim.general else ""))
                continue
            words = claim.words(run.figures[claim.id])
            if words not in run.text:
                problems.append(f"{run.name}: {claim.id} is {outcome!r} but the text does not say {words!r}")
    return problems
