"""Reading what an IMAP server says: uid-sets, COPYUID, BODYSTRUCTURE, stand-ins, searches."""

from __future__ import annotations

import email
import email.policy

from mailflows.servers.imap_responses import (
    CopiedMessages,
    MessageIdentity,
    TextPart,
    bye_text,
    copied_messages,
    fetch_chunks,
    first_text_part,
    folder_state,
    header_search,
    message_id,
    stand_in,
    uid_set,
    untagged,
    whole_lines,
)


def test_uid_sets_keep_their_order_and_ranges_either_way() -> None:
    assert uid_set(b"4,7:9") == [4, 7, 8, 9]
    assert uid_set(b"9:7,2") == [7, 8, 9, 2]


def test_copyuid_pairs_each_source_with_its_copy() -> None:
    copied = copied_messages("Disputes/Stage 1", [4, 7, 8], [b"[COPYUID 38 4,7:8 100:102]", b"38 4,7:8 100:102"])
    assert copied == CopiedMessages("Disputes/Stage 1", (4, 7, 8), 38, {4: 100, 7: 101, 8: 102})
    # Without COPYUID (or with sets that do not pair up) only the sources are known.
    assert copied_messages("F", [1, 2], []) == CopiedMessages("F", (1, 2))
    assert copied_messages("F", [1, 2], [b"38 1:2 100"]).uids == {}


def test_the_first_text_part_of_a_bodystructure() -> None:
    plain = (b"text", b"plain", (b"charset", b"iso-8859-1"), None, None, b"quoted-printable", 120, 4)
    html = (b"text", b"html", (b"charset", b"utf-8"), None, None, b"base64", 900, 12)
    pdf = (b"application", b"pdf", (b"name", b"a.pdf"), None, None, b"base64", 50000)
    assert first_text_part(([([html, plain], b"alternative"), pdf], b"mixed")) == TextPart(
        "1.2", "plain", "iso-8859-1", "quoted-printable")
    assert first_text_part(([pdf, html], b"mixed")) == TextPart("2", "html", "utf-8", "base64")
    assert first_text_part(plain) == TextPart("1", "plain", "iso-8859-1", "quoted-printable")
    assert first_text_part(pdf) is None


def test_a_stand_in_message_parses_as_the_start_of_the_original() -> None:
    header = (b"From: Jo <jo@agewell.example>\r\nSubject: Dispute\r\nContent-Type: multipart/mixed;\r\n"
              b" boundary=x\r\nMessage-ID: <m1@agewell.example>\r\n\r\n")
    raw = stand_in(header, TextPart("1", "plain", "utf-8", "8bit"), b"We object.\nAnd the rest is cu")
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "Dispute" and parsed.get_content_type() == "text/plain"
    assert parsed.get_content() == "We object.\n"
    assert whole_lines(b"QUJDRE", "base64") == b"QUJD"


def test_searches_by_message_id_or_size() -> None:
    assert header_search("Message-ID", '<a"b@x>') == (b'HEADER Message-ID "<a\\"b@x>"', None)
    assert header_search("Message-ID", "<é@x>") == ([b"HEADER", b"Message-ID", "<é@x>".encode()], "UTF-8")
    assert message_id(b"Message-ID:\r\n <m 1@x>\r\n\r\n") == "<m1@x>"
    assert MessageIdentity(b"Subject: no id\r\n\r\n", 1000, None).search_key() == (
        ["LARGER", 999, "SMALLER", 1001], None)


def test_fetch_chunks_stay_under_the_byte_limit() -> None:
    described = {1: {b"RFC822.SIZE": 600}, 2: {b"RFC822.SIZE": 600}, 3: {b"RFC822.SIZE": 10**9}}
    assert list(fetch_chunks([1, 2, 3], described, size_cap=10**6, text_cap=100, limit=1000)) == [[1], [2], [3]]
    assert list(fetch_chunks([1, 2], described, size_cap=10**6, text_cap=100, limit=2000)) == [[1, 2]]


def test_folder_state_and_untagged_responses() -> None:
    state = folder_state("INBOX", {b"UIDVALIDITY": 7, b"UIDNEXT": 12, b"EXISTS": 3})
    assert (state.uidvalidity, state.uidnext, state.exists) == (7, 12, 3)
    responses = [(4, b"EXISTS"), (b"OK", b"Still here"), (2, b"EXPUNGE")]
    assert untagged(responses, frozenset({b"EXISTS"})) == [(4, b"EXISTS")]
    assert bye_text((b"BYE", b"Shutting", b"down")) == "BYE Shutting down"
