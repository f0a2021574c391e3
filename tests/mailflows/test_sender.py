"""The sender of a message: the address inside <...>, and every reason to doubt a From header."""

from __future__ import annotations

from email import policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailflows import sender
from mailflows.sender import plain_mailbox, read_mailbox, read_sender

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
    # a list server names the list over its own '+noreply' address (Google Groups' digests)
    ('"network@googlegroups.example" <network+noreply@googlegroups.example>', "network@googlegroups.example",
     "network+noreply@googlegroups.example"),
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


_ATEXT = "abcXYZ019!#$%&'*+/=?^_`{|}~-"
_PLAINISH = st.lists(st.sampled_from([*_ATEXT, " ", "\t", ".", "<", ">", "@", '"', "(", ")", ",", ":", "\\",
                                      "=?", "?=", "é", "\x01"]), max_size=8).map("".join)
_PLAIN_ATOMS = st.lists(st.text(st.sampled_from(_ATEXT), min_size=1, max_size=6), min_size=1, max_size=3)


@st.composite
def _plain_or_nearly(draw: st.DrawFn) -> str:
    """A From value in the plain form `plain_mailbox` takes (`Jo Smith <jo@x.example>`, `<...>` or
    bare), or one with a few characters added anywhere."""
    address = ".".join(draw(_PLAIN_ATOMS)) + "@" + ".".join(draw(_PLAIN_ATOMS))
    form = draw(st.sampled_from(["name", "angle", "bare"]))
    space = st.sampled_from(["", " ", "  ", "\t"])
    if form == "name":
        value = draw(space) + " ".join(draw(_PLAIN_ATOMS)) + draw(space) + f"<{address}>" + draw(space)
    else:
        value = draw(space) + (f"<{address}>" if form == "angle" else address) + draw(space)
    for extra in draw(st.lists(st.tuples(st.integers(0, len(value)), _PLAINISH), max_size=2)):
        value = value[:extra[0]] + extra[1] + value[extra[0]:]
    return value


@settings(max_examples=500)
@given(_plain_or_nearly())
def test_a_plain_mailbox_is_read_as_the_mail_library_reads_it(value: str) -> None:
    plain = plain_mailbox(value)
    if plain is not None:
        header = policy.default.header_factory("from", value)
        assert str(header) == plain
        address = plain[plain.index("<") + 1:-1] if plain.endswith(">") else plain
        assert [a.addr_spec for a in header.addresses] == [address]
        assert not header.defects


@settings(max_examples=500)
@given(_plain_or_nearly())
def test_reading_a_plain_mailbox_without_the_library_changes_nothing(value: str) -> None:
    quick = read_mailbox(value)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sender, "plain_mailbox", lambda _value: None)
        assert read_mailbox(value) == quick
