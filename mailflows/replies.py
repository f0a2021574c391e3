"""The sender's own words: quoted history, signatures and disclaimers taken off a message's text.

Quoted history is found by quotequail ("On ... wrote:", Outlook's From/Sent block, "-----Original
Message-----", '> ' lines); signatures and disclaimers by mail-parser-reply, with the British
sign-offs it does not know ("Best wishes", "Many thanks", "Yours sincerely" ...) and the charity
footers that follow them (charity numbers, confidentiality notices, "consider the environment").
A sign-off only counts on a short line of its own, so "Many thanks for last week, but ..." at the
start of a paragraph is kept, and a list of "- " items is the sender's words, not a signature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import quotequail
from mailparser_reply.parser import EmailMessage

MAX_READ_CHARS = 4_000
"""How much of a text is searched for quotes and signatures (the rest is history or footers)."""

# A sign-off on a line of its own, perhaps with a comma and a first name after it.
_SIGN_OFFS = (
    "best wishes", "many thanks", "warm(?:est)? regards", "warm wishes", "kind(?:est)? regards",
    "kind wishes", "yours sincerely", "yours faithfully", "yours truly", "yours", "regards",
    "best regards", "with (?:many |best )?thanks", "thanks (?:again|so much|very much)", "thank you",
    "thanks", "cheers", "all the best", "best", "take care", "speak soon", "with best wishes",
    "many thanks in advance", "thanks in advance", "respectfully", "sincerely",
    "pozdrawiam", "z powa[żz]aniem", "cofion", "cofion cynnes", "diolch", "gyda diolch",
    "god bless", "blessings", "ਧੰਨਵਾਦ", "شکریہ", "cu stim[aă]", "mahadsanid",
)
_SIGN_OFF_LINE = r"(?:" + "|".join(_SIGN_OFFS) + r")[ \t]*[,.!]*[ \t]*(?:[^\W\d_][\w'.-]*[ \t]*){0,3}$"
# A sign-off with a short afterthought ('Thank you, and sorry again,'), near the end of the text.
_SIGN_OFF_AND = (r"(?:" + "|".join(_SIGN_OFFS) + r")[ \t]*,?[ \t]+and\b[^\n]{0,60}$(?:\n[^\n]{0,80}){0,8}\s*\Z")
# Footers that start a signature block even without a sign-off before them.
_FOOTERS = (
    r"sent from (?:my|outlook|yahoo|mail for)\b.*$",
    r"get outlook for\b.*$",
    r"(?:registered )?charity (?:no|number|reg)\b.*$",
    r"[^\n]{0,80}\bis a registered charity\b.*$",
    r"[^\n]{0,80}\b(?:is )?a company limited by guarantee\b.*$",
    r"registered (?:in england|office|company|charity)\b.*$",
    r"company (?:limited by guarantee|no\b|number)\b.*$",
    r"please consider the environment\b.*$",
    r"(?:this|the information in this|the contents of this) (?:e-?mail|message|communication)\b"
    r"[^\n]{0,80}\b(?:confidential|intended|privileged)\b.*$",
    r"(?:confidentiality|legal) (?:notice|disclaimer|statement)\b.*$",
    r"(?:confidentiality|confidential|privacy notice)\s*:.*$",
    r"disclaimer\s*[:\-].*$",
    r"caution:? this e-?mail originated\b.*$",
    # "- Jo" or "-- Jo Smith" signing off: a dash and a short name, with at most a few short lines
    # after it (a dash starting a longer line, or followed by more text, is a list item).
    r"-{1,2}[ \t]?[^\W\d_][\w'.-]*(?:[ \t]+[^\W\d_][\w'.-]*){0,2}[ \t]*$(?:\n[^\n]{0,60}){0,4}\s*\Z",
)


_COMPILED: dict[tuple[str, tuple[str, ...]], re.Pattern[str]] = {}
_SENDER_FIELD = {"en": "from", "pl": "od"}
"""The header field that names a quoted message's sender, per language of the reply headers."""


class _BritishMessage(EmailMessage):  # type: ignore[misc]
    """mail-parser-reply's message, knowing British sign-offs and charity footers as well.

    The library builds and compiles its patterns for every message; they depend only on the
    languages, so they are made once here.
    """

    def _pattern(self, name: str) -> re.Pattern[str]:
        key = (name, tuple(self.languages))
        found = _COMPILED.get(key)
        if found is None:
            found = _COMPILED[key] = getattr(super(), name)
        return found

    @property
    def HEADER_REGEX(self) -> re.Pattern[str]:  # the library's names
        return self._pattern("HEADER_REGEX")

    @property
    def SIGNATURE_REGEX(self) -> re.Pattern[str]:  # the library's names
        return self._pattern("SIGNATURE_REGEX")

    @property
    def DISCLAIMERS_REGEX(self) -> re.Pattern[str]:  # the library's names
        return self._pattern("DISCLAIMERS_REGEX")

    def _get_language_regex(self, language: str, regex_key: str) -> str:
        found: str = super()._get_language_regex(language, regex_key)
        if regex_key == "signatures" and language == "en":
            # The library's own English sign-offs ('Thanks,', 'Thank you,', 'Best,') match at the
            # start of any line, so "Thank you, and thank you to James for ..." would cut off the
            # rest of the message; these (a superset of them) must stand on a short line of their own.
            return "|".join([_SIGN_OFF_LINE, _SIGN_OFF_AND, *_FOOTERS])
        if regex_key == "from_header" and found and language in _SENDER_FIELD:
            # A block of header lines is quoted mail only when it names a sender: a letter pasted
            # in with 'To: Head of Commissioning' and 'cc:' lines, or a line 'Data: ...' in a
            # Polish message, is the sender's own words.
            header_line = r"(?=(?:^|\n)[>* ]*[^\W\d_]{2,12}:)"
            return rf"{header_line}(?=[\s\S]{{0,400}}?^[>* ]*{_SENDER_FIELD[language]}:)(?:{found})"
        return found


@dataclass(frozen=True)
class OwnWords:
    """What the sender wrote, and what was taken off around it (for the reasons)."""

    text: str
    quoted: bool = False
    signature: str = ""
    disclaimers: tuple[str, ...] = ()

    @property
    def removed(self) -> list[str]:
        """What was taken off, in words: 'quoted history', 'signature', 'disclaimer'."""
        parts = ["quoted history"] if self.quoted else []
        if self.signature:
            parts.append("signature")
        if self.disclaimers:
            parts.append("disclaimer")
        return parts


_WROTE = re.compile(
    r"^(?:on [^\n]{0,200}(?:\n[^\n]{0,200})?wrote:\s*$|-{2,}\s*original message\s*-{2,}|_{10,}\s*$|"
    r"from: .+$(?=\n(?:sent|date): ))", re.IGNORECASE | re.MULTILINE)


# A cheap look for anything quotequail could find, so most messages skip its line-by-line search.
_MAY_QUOTE = re.compile(
    r"^\s*(?:>|\*?(?:from|von|de|od|van|från)\s*:|-{3,}|_{10,}|begin forwarded|anfang der)|"
    r"(?:wrote|schrieb|escribi[óo]|a [ée]crit|napisa[łl]\w*|schreef|skrev|escreveu)\s*:?\s*$|"
    r"forwarded message|original message|ursprüngliche nachricht|wiadomo[śs][ćc]",
    re.IGNORECASE | re.MULTILINE)


def _without_quotes(text: str) -> tuple[str, bool]:
    """The text above (and below) quoted history, and whether any was found."""
    found = None
    wrote = _WROTE.search(text)
    if wrote and _MAY_QUOTE.search(text, 0, wrote.start()) is None:
        # A reply's own header ('On ... wrote:', '-----Original Message-----', 'From: ... Sent:')
        # cuts it where quotequail would, at a fraction of the cost.
        return text[: wrote.start()], True
    if _MAY_QUOTE.search(text):
        try:
            found = quotequail.unwrap(text)
        except Exception:  # a library surprise must never lose the message: fall back below
            found = None
    if found is not None and found.get("type") in ("reply", "forward", "quote"):
        kept = "\n\n".join(p for p in (found.get("text_top", ""), found.get("text_bottom", "")) if p)
        text, quoted = kept, True
    else:
        quoted = False
    match = _WROTE.search(text)
    if match:
        text, quoted = text[: match.start()], True
    lines = text.splitlines()
    kept_lines = [line for line in lines if not line.lstrip().startswith(">")]
    return "\n".join(kept_lines), quoted or len(kept_lines) != len(lines)


@lru_cache(maxsize=1)
def _languages() -> list[str]:
    # English, and Polish (mail clients set up in Polish, as some of Bexley's are): each language
    # adds its reply headers to the patterns searched, and so costs time on every message.
    return ["en", "pl"]


def _body(content: str, signature: str, disclaimers: list[str]) -> str:
    """The reply's words above its signature, without disclaimers.

    (mail-parser-reply removes the disclaimers first and then cannot find a signature that runs
    on into one, so the cut is made here.)
    """
    if signature:
        at = content.find(signature)
        if at >= 0:
            content = content[:at]
    for disclaimer in disclaimers:
        content = content.replace(disclaimer, "")
    return content


_SENTENCE_END = re.compile(r"[.?!:;]\s*$")


def _name_block(body: str) -> tuple[str, str]:
    """A trailing block of short lines with no sentence in it (a name, a job title, an
    organisation) split off as a signature: (words above it, the block)."""
    stripped = body.rstrip()
    cut = stripped.rfind("\n\n")
    if cut < 0:
        return body, ""
    block = stripped[cut:].strip()
    lines = [line.strip() for line in block.splitlines() if line.strip()]
    if not stripped[:cut].strip() or not 1 <= len(lines) <= 6:
        return body, ""
    if any(len(line) > 60 or _SENTENCE_END.search(line) or len(line.split()) > 7 for line in lines):
        return body, ""
    return stripped[:cut], block


@lru_cache(maxsize=16)  # one message's text is read by the automatic-mail marks and by routing
def read_own_words(text: str) -> OwnWords:
    """The sender's own words in a message text, with quotes, signature and disclaimers taken off."""
    text = text.replace("\r\n", "\n")[:MAX_READ_CHARS]
    top, quoted = _without_quotes(text)
    if not top.strip():
        return OwnWords("", quoted)
    try:
        message = _BritishMessage(text=top, languages=list(_languages()), keep_hyphen_lists=True).read()
        reply = message.replies[0] if message.replies else None
    except Exception:  # keep the words unstripped rather than lose them
        reply = None
    if reply is None:
        return OwnWords(top.strip(), quoted)
    body = _body(reply.content, reply.signatures or "", reply.disclaimers or [])
    if not body.strip() and top.strip():
        # Everything looked like a signature ("Thanks, Jo"): the words themselves are the message.
        return OwnWords(top.strip(), quoted)
    body, block = _name_block(body)
    signature = "\n".join(s for s in (block, reply.signatures or "") if s)
    postscripts = [ps for ps in _POSTSCRIPT.findall(top) if ps.strip() not in body]
    if postscripts:
        body = "\n\n".join((body.rstrip(), *(ps.strip() for ps in postscripts)))
    return OwnWords(body.strip(), quoted or len(message.replies) > 1, signature,
                    tuple(reply.disclaimers or ()))


_POSTSCRIPT = re.compile(r"(?im)^[ \t]*((?:p\.?[ \t]?p?\.?[ \t]?s\b\.?|ps\b)[^\n]*(?:\n(?![ \t]*\n)[^\n]*){0,8})")
"""A postscript ('PS I did ring twice...'): the sender's own words though it comes after the
signature, where the reply library leaves it."""


def own_words(text: str) -> str:
    """Just the sender's own words of a message text."""
    return read_own_words(text).text
