"""Tests for mailflows.parser_pool: parsing in worker processes gives the same messages, in order."""

from __future__ import annotations

import os
from dataclasses import replace

from testdata import MAIL

from mailflows.parser_pool import ParserPool
from mailflows.parsing import ParsedMessage, parse_message

MESSAGES = MAIL / "messages"


def test_pool_parses_in_order_like_one_process() -> None:
    raws = [p.read_bytes() for p in sorted(MESSAGES.glob("*.eml"))] * 2
    pool = ParserPool(workers=2, threshold=1)
    try:
        parsed = pool.parse_many(raws)
    finally:
        pool.close()
    assert [p.message_id for p in parsed] == [parse_message(r).message_id for r in raws]
    assert [p.text for p in parsed] == [parse_message(r).text for r in raws]


def test_small_batches_and_one_worker_parse_here() -> None:
    raws = [p.read_bytes() for p in sorted(MESSAGES.glob("*.eml"))][:3]
    pool = ParserPool(workers=2)
    assert [p.subject for p in pool.parse_many(raws)] == [parse_message(r).subject for r in raws]
    assert pool._executor is None  # below the threshold: no processes were started
    single = ParserPool(workers=1, threshold=1)
    assert len(single.parse_many(raws)) == 3
    assert single._executor is None


def test_workers_read_ahead_and_the_decision_is_the_same() -> None:
    from functools import partial

    from mailflows.config import require_config
    from mailflows.facts import ReadAhead, read_ahead
    from mailflows.route import classify

    config = require_config(MESSAGES.parent / "compact.toml")
    raws = [p.read_bytes() for p in sorted(MESSAGES.glob("*.eml"))]
    pool = ParserPool(workers=2, threshold=1, prepare=partial(read_ahead, config=config))
    try:
        ahead = pool.parse_many(raws)
    finally:
        pool.close()
    assert all(isinstance(p.ahead, ReadAhead) for p in ahead)
    plain = [parse_message(raw) for raw in raws]
    assert [classify(p, config).to_dict() for p in ahead] == [classify(p, config).to_dict() for p in plain]


def _marked(parsed: ParsedMessage) -> ParsedMessage:
    return replace(parsed, ahead=("read ahead", os.getpid()))


def test_chunks_taken_back_are_parsed_here_in_order_and_read_ahead() -> None:
    raws = [p.read_bytes() for p in sorted(MESSAGES.glob("*.eml"))] * 4
    pool = ParserPool(workers=2, threshold=1, prepare=_marked)
    try:
        first, second = pool.start(raws), pool.start(raws[:60])
        taken = 0
        while second.take_back():  # the later batch's pending chunks, from its last one back
            taken += 1
        assert taken and not second.take_back()  # none is taken twice
        parsed, again = list(first), list(second)
        assert second.result() == again  # read again: the same messages
    finally:
        pool.close()
    expected = [parse_message(r) for r in raws]
    assert [p.message_id for p in parsed] == [e.message_id for e in expected]
    assert [replace(p, ahead=None) for p in again] == expected[:60]
    here = {p.ahead[1] for p in again if isinstance(p.ahead, tuple)}
    assert os.getpid() in here and len(again) == 60  # some parsed in this process, read ahead too
    assert all(isinstance(p.ahead, tuple) for p in parsed + again)


def test_a_batch_whose_workers_failed_is_parsed_here() -> None:
    raws = [p.read_bytes() for p in sorted(MESSAGES.glob("*.eml"))]
    pool = ParserPool(workers=2, threshold=1)
    batch = pool.start(raws)
    pool.close()  # the chunks not started are cancelled, as a broken pool's fail
    assert [p.message_id for p in batch] == [parse_message(r).message_id for r in raws]
