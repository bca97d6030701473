"""The signed tokens in every link, against whatever a stranger puts in the URL: property tests that
anything but a token we signed raises LinkError (and only that), quickly."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.tokens import CONFIRM, UNSUBSCRIBE, LinkError, Signer

SECRET = "test-secret-0123456789"
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
BUDGET = settings(max_examples=200, deadline=timedelta(milliseconds=250), database=None)
signer = Signer(SECRET)

# What a stranger may send: any text, any bytes, and strings made of a token's own alphabet and dots,
# which get further into the checks than random text does.
tokens = st.one_of(
    st.text(st.one_of(st.characters(), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF))),  # lone surrogates
    st.binary(),
    st.text(string.ascii_letters + string.digits + "-_.", max_size=120),
    st.lists(st.text(string.ascii_letters + string.digits + "-_", max_size=40), min_size=2, max_size=4)
    .map(".".join),
)


def refused(check: object, token: str | bytes) -> None:
    with pytest.raises(LinkError):
        check(token)  # type: ignore[operator]


@BUDGET
@given(tokens)
def test_a_stranger_token_never_names_anyone(token: str | bytes) -> None:
    refused(lambda t: signer.check(UNSUBSCRIBE, t), token)
    refused(lambda t: signer.check_expiring(CONFIRM, t, now=NOW, max_age=timedelta(days=99_999)), token)


@BUDGET
@given(st.integers(1, 2**40), st.integers(0, 80), st.text(string.ascii_letters + string.digits + "-_.", max_size=3))
def test_a_changed_token_fails_or_still_names_the_same_reader(subscriber_id: int, at: int, change: str) -> None:
    for token, check in [
        (signer.sign(UNSUBSCRIBE, subscriber_id), lambda t: signer.check(UNSUBSCRIBE, t)),
        (signer.sign_expiring(CONFIRM, subscriber_id, NOW),
         lambda t: signer.check_expiring(CONFIRM, t, now=NOW, max_age=timedelta(hours=48)).subscriber_id),
    ]:
        cut = at % (len(token) + 1)
        for changed in (token[:cut] + change + token[cut + len(change):], token[:cut], token + change):
            try:
                named = check(changed)
            except LinkError:
                continue
            # Base64's last character carries spare bits: a twin of the token may pass, naming the same reader.
            assert named == subscriber_id, changed


def test_tokens_are_kept_to_their_purpose_and_key() -> None:
    permanent, expiring = signer.sign(UNSUBSCRIBE, 7), signer.sign_expiring(CONFIRM, 7, NOW)
    refused(lambda t: signer.check(CONFIRM, t), permanent)
    refused(lambda t: signer.check(UNSUBSCRIBE, t), expiring)
    refused(lambda t: signer.check_expiring(CONFIRM, t, now=NOW, max_age=timedelta(hours=48)), permanent)
    refused(lambda t: Signer("another-secret-0123456789").check(UNSUBSCRIBE, t), permanent)
    refused(lambda t: signer.check_expiring(CONFIRM, t, now=NOW + timedelta(hours=49), max_age=timedelta(hours=48)),
            expiring)
