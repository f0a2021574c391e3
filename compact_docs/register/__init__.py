"""The case register (SQLite): dispute cases, their history and messages, its schema, case letters."""

from compact_docs.register.cases import (
    BUSY_TIMEOUT_SECONDS,
    Case,
    CaseEvent,
    CaseRegister,
    RecordedMessage,
    case_ref_pattern,
)

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "Case",
    "CaseEvent",
    "CaseRegister",
    "RecordedMessage",
    "case_ref_pattern",
]
