"""Damaged input for property tests: real bytes with a few pieces inserted, cut or replaced."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st


def damaged(draw: st.DrawFn, original: bytes, pieces: Sequence[bytes]) -> bytes:
    """Return ``original`` with one to six random bytes or ``pieces`` inserted, or runs cut out."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        how = draw(st.sampled_from(["insert", "cut", "piece"]))
        if how == "insert":
            data[at:at] = draw(st.binary(max_size=16))
        elif how == "cut":
            del data[at:at + draw(st.integers(1, 64))]
        else:
            data[at:at] = draw(st.sampled_from(pieces))
    return bytes(data)


def bounded(examples: int) -> settings:
    """Hypothesis settings for parsers of strangers' input: repeatable, each example within 2 s."""
    return settings(max_examples=examples, derandomize=True, database=None, deadline=timedelta(seconds=2),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
