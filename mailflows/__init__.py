"""mailflows: the dispute mailbox workflow (parsing, classification, routing, acknowledgements)."""

from __future__ import annotations

from compact_docs._moved import MovedModules
from mailflows.acknowledgement import acknowledgement_text, build_acknowledgement
from mailflows.config import MailConfig, OrganisationEntry, find_config, load_config, require_config
from mailflows.facts import automatic_reasons, extract_facts
from mailflows.html_text import html_to_text
from mailflows.mailboxes import RawMessage, read_eml, read_maildir, read_mbox
from mailflows.parsing import ParsedMessage, message_identity, parse_message
from mailflows.route import (
    RoutingDecision,
    classify,
    open_register,
    record,
    route_message,
    route_messages,
)

# The server modules moved into mailflows.servers; their old names still import them.
MovedModules.install({
    "mailflows.imap": "mailflows.servers.imap",
    "mailflows.smtp": "mailflows.servers.smtp",
    "mailflows.credentials": "mailflows.servers.credentials",
})

__all__ = [
    "MailConfig",
    "OrganisationEntry",
    "ParsedMessage",
    "RawMessage",
    "RoutingDecision",
    "acknowledgement_text",
    "automatic_reasons",
    "build_acknowledgement",
    "classify",
    "extract_facts",
    "find_config",
    "html_to_text",
    "load_config",
    "message_identity",
    "open_register",
    "parse_message",
    "read_eml",
    "read_maildir",
    "read_mbox",
    "record",
    "require_config",
    "route_message",
    "route_messages",
]
