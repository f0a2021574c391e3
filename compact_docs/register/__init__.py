"""The case register (SQLite): dispute cases, their history and messages, its schema, case letters."""

from compact_docs.register.cases import BUSY_TIMEOUT_SECONDS, CaseRegister
from compact_docs.register.records import ROUTING_ACTOR, Case, CaseEvent, RecordedMessage, case_ref_pattern, caseworker
from compact_docs.register.schema import SCHEMA_VERSION, Migration, Migrations

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "ROUTING_ACTOR",
    "SCHEMA_VERSION",
    "Case",
    "CaseEvent",
    "CaseRegister",
    "Migration",
    "Migrations",
    "RecordedMessage",
    "case_ref_pattern",
    "caseworker",
]
