"""The claims mechanism (playground.contract.claims): one tie band, one wording per
outcome, and an audit that fails when a text says other than its figures."""
from __future__ import annotations

import pytest

from playground.contract.claims import HIGHER, LOWER, TIE, Claims, Evidence, audit, compare


def test_compare_calls_a_difference_inside_the_band_a_tie():
    assert [compare(a, 0.5, 0.03) for a in (0.54, 0.53, 0.5, 0.47, 0.46)] == [HIGHER, TIE, TIE, TIE, LOWER]
    with pytest.raises(ValueError, match="negative"):
        compare(1, 0, -0.1)


def _claims() -> Claims:
    claims = Claims()
    claims.declare("a_beats_b", lambda f: compare(f["a"], f["b"], 0.1),
                   {HIGHER: "a beat b ({a:.1f})", TIE: "a and b tied", LOWER: "b beat a ({b:.1f})"})
    claims.declare("a_positive", lambda f: "yes" if f["a"] > 0 else "no", {"yes": "a is positive"})
    return claims


def test_a_claim_words_the_outcome_of_its_figures_and_refuses_an_unworded_one():
    claims = _claims()
    assert claims["a_beats_b"].words({"a": 0.9, "b": 0.2}) == "a beat b (0.9)"
    assert claims["a_beats_b"].words({"a": 0.2, "b": 0.9}) == "b beat a (0.9)"
    assert claims["a_positive"].general and not claims["a_beats_b"].general
    with pytest.raises(ValueError, match="has no wording"):
        claims["a_positive"].words({"a": -1})
    with pytest.raises(ValueError, match="declared twice"):
        claims.declare("a_positive", lambda f: "yes", {"yes": "again"})


def test_the_audit_catches_too_few_runs_a_wrong_text_and_a_general_claim_that_flips():
    claims = _claims()
    good = [Evidence(f"seed {k}", f"a beat b ({a:.1f}). a is positive.", {"a_beats_b": {"a": a, "b": 0.0},
                                                                          "a_positive": {"a": a}})
            for k, a in enumerate((0.5, 0.6, 0.7, 0.8))]
    assert audit(claims, good) == []
    assert audit(claims, good[:3]) == ["a_beats_b: evaluated on 3 run(s), needs 4",
                                       "a_positive: evaluated on 3 run(s), needs 4"]
    stale = Evidence("stale", "a beat b (0.5). a is positive.", {"a_beats_b": {"a": 0.0, "b": 0.5}, "a_positive": {"a": 1}})
    assert audit(claims, [*good, stale]) == ["stale: a_beats_b is 'lower' but the text does not say 'b beat a (0.5)'"]
    flipped = Evidence("flipped", "a and b tied.", {"a_beats_b": {"a": 0.0, "b": 0.0}, "a_positive": {"a": -1}})
    assert audit(claims, [*good, flipped]) == [
        "flipped: claim 'a_positive': this run's outcome 'no' has no wording (it has yes). It is stated as general: "
        "word it per run."]
