"""Hints say exactly what to do: whole sentences, and the user's own text when they say to quote it."""

from __future__ import annotations

import pytest

from generator.diagnostics import first_sentence


@pytest.mark.parametrize("text, sentence", [
    ("Image repository, e.g. `registry.example.com/backend`. A version's image is `<image>:<name>`.",
     "Image repository, e.g. `registry.example.com/backend`"),
    ("A proportion, i.e. a number from 0 to 1. Used for the sample size.", "A proportion, i.e. a number from 0 to 1"),
    ("Headers, cookies, etc. are kept. The rest is dropped.", "Headers, cookies, etc. are kept"),
    ("Flagger's chart, version 1.44.0 by default. Any chart version works.", "Flagger's chart, version 1.44.0 by default"),
    ("Where Prometheus answers, e.g. http://prometheus.monitoring:9090. Scheme required.",
     "Where Prometheus answers, e.g. http://prometheus.monitoring:9090"),
    ("A name such as `a. b` in code. Second.", "A name such as `a. b` in code"),
    ("Lists the kinds, etc. Next comes more.", "Lists the kinds, etc"),
    ("One sentence only.", "One sentence only"),
    ("No full stop", "No full stop"),
])
def test_the_first_sentence_of_a_description_is_whole(text, sentence):
    assert first_sentence(text) == sentence
