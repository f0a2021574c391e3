"""The sender of a message: the address inside <...>, and every reason to doubt a From header."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailflows.sender import read_mailbox, read_sender

_DISPLAY = st.text(st.characters(blacklist_characters='<>"()\\', blacklist_categories=("Cs", "Cc")), max_size=60)
_ADDRESS = st.from_regex(r"[a-z0-9+_-]{1,12}(\.[a-z0-9+_-]{1,12})?@[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?\.example",
                         fullmatch=True)


@pytest.mark.parametrize(("value", "name", "address"), [
    ("Jo Smith <jo.smith@agewell.example>", "Jo Smith", "jo.smith@agewell.example"),
    ("Jo A. Smith <JO@AgeWell.example>", "Jo A. Smith", "jo@agewell.example"),
    ('"Smith, Jo" <jo@agewell.example>', "Smith, Jo", "jo@agewell.example"),
    ("jo@agewell.example (Jo Smith)", "Jo Smith", "jo@agewell.example"),
    ("=?utf-8?q?J=C3=B6_Smith?= <jo@agewell.example>", "Jö Smith", "jo@agewell.example"),
    ("J\udcc3\udcb6 Smith <jo@agewell.example>", "Jö Smith", "jo@agewell.example"),  # raw UTF-8 (RFC 6532)
    ("<jo@agewell.example>", "", "jo@agewell.example"),
    ("jo@agewell.example", "", "jo@agewell.example"),
    ('"jo@agewell.example" <jo@agewell.example>', "jo@agewell.example", "jo@agewell.example"),
    ("j\udcc3\udcb6s\udcc3\udca9@agewell.example", "", "jösé@agewell.example"),
    ("Jo Smith\r\n <jo.smith@agewell.example>", "Jo Smith", "jo.smith@agewell.example"),
])
def test_ordinary_from_headers_are_trusted(value: str, name: str, address: str) -> None:
    mailbox = read_mailbox(value)
    assert (mailbox.name, mailbox.address, mailbox.doubts) == (name, address, ())


@pytest.mark.parametrize(("value", "address", "doubt"), [
    ("ceo@agewell.example <attacker@evil.example>", "attacker@evil.example", "shows another address"),
    ("=?utf-8?q?=0D=0Aceo@agewell.example?= <attacker@evil.example>", "attacker@evil.example",
     "control characters"),
    ('"ceo@agewell.example" <attacker@evil.example>', "attacker@evil.example", "shows another address"),
    ("=?utf-8?b?Sm8gU21pdGggPGpvQGFnZXdlbGwuZXhhbXBsZT4=?= <attacker@evil.example>",
     "attacker@evil.example", "shows another address"),
    ("Jo Smith <jo@agewell.example> <attacker@evil.example>", "attacker@evil.example", "2 addresses"),
    ("Jo <jo@agewell.example>, Mallory <attacker@evil.example>", "attacker@evil.example",
     "more than one address"),
    ("Jo <jo@agewell.example", "jo@agewell.example", "not closed"),
    ('"Jo <jo@agewell.example>', None, "quoted string is not closed"),
    ("Jo\x00 <jo@agewell.example>", "jo@agewell.example", "control characters"),
    ("Jo", None, "not a valid address"),
    ("Undisclosed recipients:;", None, "group"),
    ("<>", None, "empty"),
    ("Jo <@relay.example:jo@agewell.example>", "jo@agewell.example", "source route"),
])
def test_a_from_header_a_forger_could_use_is_doubted(value: str, address: str | None, doubt: str) -> None:
    mailbox = read_mailbox(value)
    assert mailbox.address == address
    assert any(doubt in text for text in mailbox.doubts), mailbox.doubts


def test_several_from_headers_are_doubted() -> None:
    mailbox = read_sender(["Jo <jo@agewell.example>", "Mallory <attacker@evil.example>"])
    assert mailbox.address == "jo@agewell.example"
    assert "2 From headers" in mailbox.doubts
    assert read_sender([]).address is None and not read_sender([]).doubts


@given(_DISPLAY, _ADDRESS)
def test_the_display_name_never_supplies_the_address(display: str, address: str) -> None:
    assert read_mailbox(f"{display} <{address}>").address == address.lower()


@given(st.text(max_size=300))
def test_any_from_header_is_read_without_raising(value: str) -> None:
    mailbox = read_mailbox(value)
    assert mailbox.address is None or "@" in mailbox.address
