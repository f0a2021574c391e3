"""Plain Content-Type and Content-Transfer-Encoding headers: made without the header registry, alike."""

from __future__ import annotations

from email import policy
from email.headerregistry import HeaderRegistry

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailflows.mime_headers import plain_mime_header

_REGISTRY = HeaderRegistry()
_TOKEN = st.text(st.sampled_from("abcXYZ019.+-"), min_size=1, max_size=8).filter(lambda t: t[0].isalnum())
_QUOTED = st.lists(st.sampled_from([*(chr(c) for c in range(0x20, 0x7F) if chr(c) not in '"\\'), "=?utf-8?q?x?="]),
                   max_size=12).map("".join)
_SPACE = st.sampled_from(["", " ", "\t", "  "])
_STRAY = st.sampled_from([" ", ";", "=", '"', "/", "*", "'", "%", "(", ",", "\\", "é", "\x01", "=?", "?"])


@st.composite
def _content_type(draw: st.DrawFn) -> str:
    value = draw(_SPACE) + draw(_TOKEN) + "/" + draw(_TOKEN) + draw(_SPACE)
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(["charset", "Charset", "boundary", "name", "format", "x-a"]))
        text = draw(_TOKEN) if draw(st.booleans()) else '"' + draw(_QUOTED) + '"'
        value += ";" + draw(_SPACE) + name + "=" + text + draw(_SPACE)
    return _stray(draw, value)


@st.composite
def _encoding(draw: st.DrawFn) -> str:
    token = draw(st.sampled_from(["7bit", "8bit", "base64", "BASE64", "quoted-printable", "binary", "x-uue"]))
    return _stray(draw, draw(_SPACE) + token + draw(_SPACE))


def _stray(draw: st.DrawFn, value: str) -> str:
    for at, extra in draw(st.lists(st.tuples(st.integers(0, len(value)), _STRAY), max_size=2)):
        value = value[:at] + extra + value[at:]
    return value


@settings(max_examples=1000)
@given(_content_type())
def test_a_plain_content_type_is_the_registrys(value: str) -> None:
    made = plain_mime_header(_REGISTRY["content-type"], "Content-Type", value)
    if made is not None:
        parsed = _REGISTRY("Content-Type", value)
        assert str(made) == str(parsed)
        assert (made.content_type, made.maintype, made.subtype) == (parsed.content_type, parsed.maintype,
                                                                    parsed.subtype)
        assert dict(made.params) == dict(parsed.params)
        assert made.defects == parsed.defects == ()
        assert made.fold(policy=policy.default) == parsed.fold(policy=policy.default)


@settings(max_examples=300)
@given(_encoding())
def test_a_plain_transfer_encoding_is_the_registrys(value: str) -> None:
    made = plain_mime_header(_REGISTRY["content-transfer-encoding"], "Content-Transfer-Encoding", value)
    if made is not None:
        parsed = _REGISTRY("Content-Transfer-Encoding", value)
        assert (str(made), made.cte, made.defects) == (str(parsed), parsed.cte, parsed.defects)


@pytest.mark.parametrize("value", [
    'text/plain; name="=?utf-8?q?f=C3=A9.txt?="',  # the registry decodes the encoded word
    "text/plain; charset=utf-8; Charset=latin-1",  # a name twice: the registry's rules
    "text/plain; charset*=utf-8''%e2%82%ac",  # RFC 2231
    "text/plain;\r\n charset=utf-8",  # folded: the registry reads the line end
    "text/plain; charset=é",
])
def test_anything_else_is_left_to_the_registry(value: str) -> None:
    assert plain_mime_header(_REGISTRY["content-type"], "Content-Type", value) is None
