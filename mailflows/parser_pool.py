"""Parsing many messages at once in worker processes: parse_message is pure, routing is not."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context

from mailflows.parsing import DEFAULT_MAX_TEXT_CHARS, ParsedMessage, parse_message

log = logging.getLogger(__name__)

PARALLEL_THRESHOLD = 48
"""Batches smaller than this are parsed in this process: handing them over costs more than it saves."""


Prepare = Callable[[ParsedMessage], ParsedMessage]
"""Work on a parsed message that needs no register (reading its words ahead), done in the workers."""

_prepare: Prepare | None = None


def _start_worker(parent: int, prepare: Prepare | None = None) -> None:
    """Make a parsing worker a plain child: default signals, and it dies with its parent.

    A forked worker inherits the watcher's signal handlers (a SIGTERM would only set a flag) and
    its open files (the IMAP socket, the register, the caller's pipes); if the watcher is killed
    outright the worker must not live on holding them.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
    global _prepare
    _prepare = prepare


_PR_SET_PDEATHSIG = 1


def _parse_chunk(raws: list[bytes], max_text_chars: int) -> list[ParsedMessage]:
    # What needs no register (reading the sender's words, weighing them) is done here, in
    # parallel, off the one process that decides and records.
    return _parse_all(raws, max_text_chars, _prepare)


def _parse_all(raws: Sequence[bytes], max_text_chars: int, prepare: Prepare | None) -> list[ParsedMessage]:
    parsed = [parse_message(raw, max_text_chars) for raw in raws]
    return [_prepared(p, prepare) for p in parsed] if prepare is not None else parsed


def _prepared(parsed: ParsedMessage, prepare: Prepare) -> ParsedMessage:
    try:
        return prepare(parsed)
    except Exception:  # reading ahead is an optimisation: the decision reads it again itself
        log.exception("reading ahead failed for %s", parsed.message_id)
        return parsed


class ParsingBatch:
    """A batch being parsed, in chunks: in the workers, or here.

    Iterating gives the parsed messages in order, each chunk as soon as it is parsed, so the
    first messages can be routed while the rest are parsed. While it waits for a worker, this
    process takes chunks no worker has started yet and parses them itself (`ParserPool.steal`),
    rather than sit idle.
    """

    def __init__(self, pool: ParserPool, raws: Sequence[bytes], max_text_chars: int,
                 futures: list[Future[list[ParsedMessage]]] | None = None, size: int = 1) -> None:
        self._pool = pool
        self._raws = raws
        self._max_text_chars = max_text_chars
        self._futures = futures or []
        self._size = size
        self._here: dict[int, list[ParsedMessage]] = {}
        """The chunks parsed so far, by index: by the workers, or taken back and parsed here."""

    def result(self) -> list[ParsedMessage]:
        """The parsed messages, in order; parsed here if the workers failed."""
        return list(self)

    def __iter__(self) -> Iterator[ParsedMessage]:
        count = len(self._futures)
        for index, future in enumerate(self._futures):
            while index not in self._here and not future.done() and self._pool.steal(self):
                pass
            if index not in self._here:
                try:
                    self._here[index] = future.result()
                except (BrokenProcessPool, CancelledError, OSError) as exc:
                    log.warning("parsing in worker processes failed (%s); parsing in this process",
                                exc or type(exc).__name__)
                    self._pool.close()
                    self._pool.workers = 1
                    count = index
                    break
            yield from self._here[index]
        done = count * self._size
        for index in range(count, len(self._futures)):  # the workers failed: what they had not done
            chunk = self._here.get(index)
            if chunk is None:
                chunk = [parse_message(raw, self._max_text_chars) for raw in self._chunk(index)]
            done += len(chunk)
            yield from chunk
        for raw in self._raws[done:]:  # none were sent to workers
            yield parse_message(raw, self._max_text_chars)

    def take_back(self) -> bool:
        """Parse here the last chunk no worker has started; False when there is none."""
        for index in range(len(self._futures) - 1, -1, -1):
            future = self._futures[index]
            if not future.cancelled() and future.cancel():  # not started: now it never will be
                self._here[index] = _parse_all(self._chunk(index), self._max_text_chars, self._pool.prepare)
                return True
        return False

    def _chunk(self, index: int) -> Sequence[bytes]:
        return self._raws[index * self._size:(index + 1) * self._size]


class ParserPool:
    """Parses a batch of raw messages across worker processes, in order.

    Deciding a message's stage reads and writes the case register and depends on the messages
    before it, so it stays in one process; parsing (about three quarters of the work on a
    message) does not. A pool that fails for any reason falls back to parsing here: a message
    is never lost to a worker.
    """

    def __init__(self, workers: int | None = None, threshold: int = PARALLEL_THRESHOLD,
                 prepare: Prepare | None = None) -> None:
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self.threshold = threshold
        self.prepare = prepare
        self.before_fork: Callable[[], None] | None = None
        """Called just before the worker processes are forked (all at once, for the first batch
        sent to them): a caller's thread that imports modules waits there, as a fork must not
        copy an import half done."""
        self._executor: ProcessPoolExecutor | None = None
        self._batches: list[weakref.ref[ParsingBatch]] = []

    @property
    def forked(self) -> bool:
        """Whether the worker processes are running (all are forked at the first batch sent)."""
        return self._executor is not None

    def parse_many(self, raws: Sequence[bytes], max_text_chars: int = DEFAULT_MAX_TEXT_CHARS) -> list[ParsedMessage]:
        """The parsed messages, in the order given."""
        return self.start(raws, max_text_chars).result()

    def start(self, raws: Sequence[bytes], max_text_chars: int = DEFAULT_MAX_TEXT_CHARS) -> ParsingBatch:
        """Begin parsing a batch in the workers and return at once; `result()` waits for it.

        The watcher starts parsing the next batch while it records the current one.
        """
        if self.workers <= 1 or len(raws) < self.threshold or sys.platform != "linux":
            return ParsingBatch(self, raws, max_text_chars, None)
        try:
            if self._executor is None:
                if self.before_fork is not None:
                    self.before_fork()
                self._executor = ProcessPoolExecutor(self.workers, mp_context=get_context("fork"),
                                                     initializer=_start_worker,
                                                     initargs=(os.getpid(), self.prepare))
            chunk = max(1, len(raws) // (self.workers * 4))
            futures = [self._executor.submit(_parse_chunk, list(raws[i:i + chunk]), max_text_chars)
                       for i in range(0, len(raws), chunk)]
        except (BrokenProcessPool, OSError, RuntimeError) as exc:
            log.warning("parsing in worker processes failed (%s); parsing in this process", exc)
            self.close()
            self.workers = 1
            return ParsingBatch(self, raws, max_text_chars)
        batch = ParsingBatch(self, raws, max_text_chars, futures, chunk)
        self._batches.append(weakref.ref(batch))
        return batch

    def steal(self, waiting: ParsingBatch) -> bool:
        """Parse here a chunk that no worker has started, while ``waiting`` waits for a worker:
        its own last one, else one of a batch started after it. False when there is none.

        A batch nobody holds any more (its run stopped) is left alone.
        """
        live = [batch for ref in self._batches if (batch := ref()) is not None]
        self._batches = [weakref.ref(batch) for batch in live]
        later = live[live.index(waiting):] if waiting in live else [waiting]
        return any(batch.take_back() for batch in later)

    def close(self) -> None:
        """Stop the worker processes."""
        self._batches = []
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
