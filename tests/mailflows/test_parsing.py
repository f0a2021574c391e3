"""Robust parsing: real corpus messages, malformed input, CPython's own email corpus, arbitrary bytes."""

from __future__ import annotations

import re
import sys
import time
from email import policy
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from testdata import MAIL

from mailflows.html_text import html_to_text
from mailflows.parsing import (
    ParsedMessage,
    _decode_raw_header,
    _policy_text,
    _unfold,
    decode_bytes,
    header_message_id,
    message_identity,
    parse_message,
)

MESSAGES = MAIL / "messages"
CPYTHON_EMAIL_DATA = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" \
    / "test" / "test_email" / "data"


def parse(name: str) -> ParsedMessage:
    return parse_message((MESSAGES / name).read_bytes())


def test_plain_message_fields() -> None:
    m = parse("01-late-payment.eml")
    assert m.message_id == "<a1b2c3.priya@crayfordlarder.example>"
    assert not m.message_id_generated
    assert m.from_name == "Priya Shah"
    assert m.from_address == "priya@crayfordlarder.example"
    assert m.return_path == "priya@crayfordlarder.example"
    assert m.subject == "Invoice INV-0931 not paid"
    assert "£5,625" in m.text
    assert m.problems == ()


def test_rfc2047_subject_and_display_name() -> None:
    m = parse("06-rfc2047-subject.eml")
    assert m.subject == "Complaint – grant reduced without explanation"
    assert m.from_name == "Jo Smïth"


def test_quoted_printable_body_is_decoded() -> None:
    m = parse("02-overdue-qp.eml")
    assert "Our Q2 grant payment of £3,200 is now six weeks overdue." in " ".join(m.text.split())
    assert "volunteers’ travel" in m.text
    assert m.subject == "Q2 grant payment overdue – Welling Food Bank"


def test_base64_body_is_decoded() -> None:
    assert "clear breach of the Bexley Compact" in " ".join(parse("05-breach-base64.eml").text.split())


@pytest.mark.parametrize(("name", "words"), [
    ("04-decommissioning-cp1252.eml", "We’ve just heard – second hand"),
    ("07-latin1-grant-cut.eml", "about £4,000"),
])
def test_legacy_charsets(name: str, words: str) -> None:
    assert words in parse(name).text


def test_html_only_message_becomes_text_without_styles() -> None:
    m = parse("03-monitoring-html-only.eml")
    assert m.html_only
    assert "this monitoring is disproportionate" in " ".join(m.text.split())
    assert "font-family" not in m.text and "<p>" not in m.text


def test_html_scripts_are_not_text() -> None:
    m = parse("42-invitation-html.eml")
    assert "tracking" not in m.text and "complaint" not in m.text
    assert "Join us on 3 December at the Civic Offices." in m.text


def test_html_to_text_marks_blockquotes_as_quoted() -> None:
    text = html_to_text("<p>Still unresolved.</p><blockquote><p>Old words</p></blockquote><p>Jo</p>")
    assert text.splitlines() == ["Still unresolved.", "> Old words", "Jo"]


def test_attachments_are_listed_not_read() -> None:
    m = parse("08-attachment-invoice.eml")
    assert m.attachments == ("WFB-2026-044.pdf",)
    assert "%PDF" not in m.text


def test_multipart_alternative_prefers_plain_text() -> None:
    m = parse("45-alternative.eml")
    assert not m.html_only
    assert m.text.startswith("We object to the plan")
    assert "<b>" not in m.text


def test_content_type_name_star_falls_back_to_compat32() -> None:
    m = parse("37-malformed-content-type.eml")
    assert any("IndexError" in p for p in m.problems)
    assert m.subject == "Late payment again"
    assert "December invoice is overdue" in m.text


def test_unknown_8bit_charset_is_read_as_windows_1252() -> None:
    m = parse("38-unknown-8bit.eml")
    assert "we’re owed £3,200" in m.text
    assert m.subject == "Réclamation - late payment"


def test_non_ascii_message_id_is_kept() -> None:
    m = parse("39-non-ascii-message-id.eml")
    assert m.message_id == "<réclamation-2@sidcupyoutharts.example>"
    assert not m.message_id_generated


def test_missing_message_id_gets_a_stable_hash_identity() -> None:
    raw = (MESSAGES / "41-no-message-id.eml").read_bytes()
    m = parse_message(raw)
    assert m.message_id_generated
    assert m.message_id == message_identity(raw) == parse_message(raw).message_id
    assert m.message_id.endswith("@compact-docs>") and len(m.message_id) == 64 + len("<@compact-docs>")
    assert message_identity(raw + b"\n") != m.message_id


def test_empty_return_path_is_empty_not_missing() -> None:
    assert parse("28-empty-return-path.eml").return_path == ""
    assert parse_message(b"From: a@b.example\n\nhi\n").return_path is None


def test_delivery_status_report_part_types() -> None:
    m = parse("24-bounce-dsn.eml")
    assert m.content_type == "multipart/report"
    assert "message/delivery-status" in m.part_types


def test_thread_ids_come_from_references_then_in_reply_to() -> None:
    m = parse_message((MAIL / "threads" / "a3.eml").read_bytes())
    assert m.thread_ids == ("<thread-a1@mail.agewell.example>", "<thread-a2@mail.agewell.example>",
                            "<ack-a2@bvsc.example>")


def test_thread_ids_encoded_as_rfc2047_words_are_decoded() -> None:
    # A generator that folds a long References line may encode it; the thread must still join.
    raw = (b"From: jo@agewell.example\r\nSubject: RE: payment\r\n"
           b"In-Reply-To: =?utf-8?q?=3CPAXPR01MB4474ADF428BD8E4A677BCB5585A5299B45FC=40PA?=\r\n"
           b" =?utf-8?q?XPR01MB4474=2Eeurprd08=2Eprod=2Eoutlook=2Ecom=3E?=\r\n"
           b"References: <first@agewell.example>\r\n\r\nStill unpaid.\r\n")
    m = parse_message(raw)
    assert m.in_reply_to == ("<PAXPR01MB4474ADF428BD8E4A677BCB5585A5299B45FC@PAXPR01MB4474.eurprd08.prod.outlook.com>",)
    assert m.references == ("<first@agewell.example>",)


def test_huge_attachment_is_never_decoded_and_text_is_capped() -> None:
    text = ("We object to this. " * 20_000).encode()
    attachment = b"QUJD" * 10_000_000  # 40 MB of base64
    raw = (b"From: x@y.example\r\nSubject: big\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
           b"Content-Type: text/plain\r\n\r\n" + text + b"\r\n--b\r\n"
           b"Content-Type: application/octet-stream; name=big.bin\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n" + attachment + b"\r\n--b--\r\n")
    started = time.perf_counter()
    m = parse_message(raw, max_text_chars=10_000)
    assert time.perf_counter() - started < 20
    assert len(m.text) <= 10_000 and m.truncated
    assert m.attachments == ("big.bin",)


def test_huge_text_part_is_cut_before_decoding() -> None:
    body = b"=C2=A3 late =\r\n" * 200_000
    raw = (b"From: x@y.example\r\nContent-Type: text/plain; charset=utf-8\r\n"
           b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + body)
    m = parse_message(raw, max_text_chars=5_000)
    assert m.truncated and len(m.text) <= 5_000
    assert m.text.startswith("£ late £ late")


def test_garbage_bytes_still_give_a_message() -> None:
    m = parse("40-garbage.eml")
    assert m.message_id_generated
    assert m.from_address is None


def test_rejects_text_instead_of_bytes() -> None:
    with pytest.raises(TypeError):
        parse_message("From: a@b\n\nhi")  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    m = parse_message(raw)
    assert m.message_id.startswith("<") and m.message_id.endswith(">")
    assert isinstance(m.text, str)


_HEADERS = st.sampled_from([
    b"Content-Type: text/plain; name*", b"Content-Type: text/plain; charset=x-unknown-8bit",
    b"Message-ID: <\xc3\xa9t\xc3\xa9@x>", b"Subject: =?utf-8?q?caf=C3=A9?=", b"From: \xff\xfe <a@b>",
    b"Content-Type: multipart/mixed; boundary=", b"Content-Transfer-Encoding: base64",
    b"Subject: =?bogus?B?////?=", b"References: <a@b> <c@d", b"Return-Path: <>",
    b"Content-Type: text/html; charset=\"utf-8", b"Content-Disposition: attachment; filename*=x''y",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(_HEADERS, max_size=6), st.binary(max_size=500))
def test_hostile_headers_never_raise(headers: list[bytes], body: bytes) -> None:
    m = parse_message(b"\r\n".join(headers) + b"\r\n\r\n" + body)
    assert m.message_id


def _cpython_messages() -> list[Path]:
    return sorted(CPYTHON_EMAIL_DATA.glob("msg_*.txt")) if CPYTHON_EMAIL_DATA.is_dir() else []


@pytest.mark.skipif(not _cpython_messages(),
                    reason=f"CPython's email test corpus is not installed at {CPYTHON_EMAIL_DATA}")
def test_cpython_email_corpus_parses() -> None:
    for path in _cpython_messages():
        m = parse_message(path.read_bytes())
        assert m.message_id, path.name


_HEADER_TEXT = st.lists(st.sampled_from(["Jo", "Smith", " ", "  ", "\t", "\r\n ", "\r\n\t", "<jo@x.example>", "é",
                                         "=?utf-8?q?caf=C3=A9?=", "=?", "?=", ":", ",", '"', "(", ")", "\\", "\x01",
                                         "\udce9", "Re:", "[BXC-2026-0001]"]), max_size=10).map("".join)


@settings(max_examples=500)
@given(st.sampled_from(["subject", "from", "sender", "reply-to"]), _HEADER_TEXT)
def test_header_text_is_the_policys_without_always_asking_it(name: str, value: str) -> None:
    # As str(message.get_all(name)[i]) is: the value without line ends, through the registry.
    try:
        expected = str(policy.default.header_factory(name, "".join(re.split(r"\n|\r", value))))
    except Exception:  # the parser notes a problem and reads the raw value instead
        return
    assert _policy_text(name, value) == expected


@settings(max_examples=500)
@given(_HEADER_TEXT)
def test_raw_header_values_decode_as_decode_header_and_make_header_do(value: str) -> None:
    text = value
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        text = decode_bytes(text.encode("utf-8", "surrogateescape"))
    try:
        expected = _unfold(str(make_header(decode_header(text))))
    except Exception:  # the forgiving route: pieces decoded one by one
        return
    assert _decode_raw_header(value) == expected


def test_the_message_id_read_from_a_header_block_is_the_one_the_parser_finds() -> None:
    checked = 0
    for path in sorted((MAIL / "messages").glob("*.eml")) + sorted((MAIL / "corpus" / "train-a").glob("*.eml")):
        header = path.read_bytes().replace(b"\r\n", b"\n").split(b"\n\n", 1)[0] + b"\n"
        found = header_message_id(header)
        if found is not None:
            assert found == parse_message(header + b"\n").message_id, path.name
            checked += 1
    assert checked > 100
    folded = b"Subject: x\r\nMessage-ID:\r\n <folded@agewell.example>\r\n"
    assert header_message_id(folded) == "<folded@agewell.example>"
    assert header_message_id(b"Subject: no id\r\n") is None
