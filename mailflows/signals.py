"""The words that signal a dispute, a failed informal resolution or a request to escalate, in British English."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from compact_docs.rules.profile import Profile, load_profile

SignalKind = Literal["dispute", "tried_informal", "escalation"]
SIGNAL_KINDS: tuple[SignalKind, ...] = ("dispute", "tried_informal", "escalation")

# Each default is a regular expression matched against lower-cased text with straight quotes and
# single spaces. Phrases from a configuration are plain text and are escaped before use.
# COMPACT stands for the Compact by name: "compact", after the profile's own name for it
# ("bexley compact") or "local compact".
COMPACT = "<compact>"
_COMMISSIONER = (
    r"(?:commissioner|commissioning (?:manager|officer|team|lead)|contract manager|"
    r"grants? (?:officer|team|manager)|council|icb|finance team)"
)

DEFAULT_DISPUTE: tuple[str, ...] = (
    r"\bcomplain(?:t|ts|ing|ed)?\b",
    r"\bobjections?\b",
    r"\bobject(?:ing)? (?:to|strongly)\b",
    r"\bwe object\b",
    r"\bdisput(?:e|es|ed|ing)\b",
    r"\bgrievance\b",
    r"\blate payments?\b",
    r"\bpaid late\b",
    r"\bpayments? (?:is |are |was |were |has been |have been )?(?:late|overdue|outstanding|delayed)\b",
    r"\b(?:invoice|invoices|payment|payments|grant instalment)\b[^.!?]{0,80}"
    r"\b(?:not (?:yet )?been paid|unpaid|overdue|outstanding|still not paid|not been received|"
    r"hasn't been paid|has not been paid|haven't been paid|have not been paid)\b",
    r"\b(?:haven't|have not|hasn't|has not) (?:yet )?(?:been paid|received (?:the |our )?payment)\b",
    r"\bunpaid invoices?\b",
    r"\bmonitoring\b[^.!?]{0,80}\b(?:disproportionate|excessive|unreasonable|onerous|burdensome|"
    r"unfair|not proportionate|far too)\b",
    r"\b(?:disproportionate|excessive|onerous|burdensome)\b[^.!?]{0,60}"
    r"\b(?:monitoring|reporting|returns?|data requests?)\b",
    r"\bde-?commission(?:ed|ing)?\b",
    r"\bwithout (?:any |proper |adequate |sufficient |prior )?(?:written )?(?:notice|warning|consultation)\b",
    r"\b(?:insufficient|inadequate) notice\b",
    r"\bless than (?:three|3) months'? notice\b",
    r"\bonly (?:given|had|received) (?:us )?(?:a |two |three |four |six |\d+ )?(?:weeks?|days?)'? notice\b",
    r"\bbreach(?:es|ed|ing)? (?:of )?(?:the )?" + COMPACT + r"\b",
    r"\b(?:contrary to|not in line with|not in keeping with|against the spirit of|in breach of|"
    r"goes against|ignor(?:ed|ing|es)) (?:the )?" + COMPACT + r"\b",
    r"\bbreach of (?:contract|our agreement|the agreement|the funding agreement)\b",
    r"\b(?:cut|cuts|cutting|withdr\w+|terminat\w+|end(?:ed|ing)?|stopp\w+|reduc\w+|pull\w*)\b"
    r"[^.!?]{0,30}\bour (?:funding|grant|contract)\b",
    r"\bour (?:funding|grant|contract)\b[^.!?]{0,40}"
    r"\b(?:cut|withdrawn|terminated|ended|stopped|reduced|pulled)\b",
    r"\bunfair(?:ly)?\b",
    r"\bunacceptable\b",
    r"\b(?:unhappy|dissatisfied|very disappointed|deeply disappointed)\b",
    r"\b(?:appeal(?:ing)?|challeng(?:e|ing)) (?:against )?(?:the|this|that|your) decision\b",
)

DEFAULT_TRIED_INFORMAL: tuple[str, ...] = (
    r"\balready\b[^.!?]{0,40}\b(?:raised|discussed|taken|tried|spoken|spoke|contacted|emailed|"
    r"written|approached|been to|chased)\b[^.!?]{0,80}\b" + _COMMISSIONER + r"\b",
    r"\b(?:raised|discussed|spoken|spoke|talked|contacted|emailed|written|wrote|met|approached|"
    r"chased|took (?:this|it) up)\b[^.!?]{0,80}\b" + _COMMISSIONER + r"\b[^.!?]{0,120}"
    r"\b(?:nowhere|no (?:reply|response|answer|progress|resolution|change)|not (?:been )?"
    r"(?:resolved|answered|replied|responded)|didn't|did not|refused|declined|ignored|unresolved|"
    r"without (?:success|result|resolution)|but)\b",
    r"\b" + _COMMISSIONER + r"\b[^.!?]{0,80}\b(?:refused|declined|would not|wouldn't|won't|"
    r"will not|has not (?:replied|responded|answered)|hasn't (?:replied|responded|answered)|"
    r"did not (?:reply|respond|answer)|didn't (?:reply|respond|answer)|ignored|"
    r"not been able to help|could not help|couldn't help)\b",
    r"\b(?:got|getting|gone|went) nowhere\b",
    r"\btried (?:to resolve|to sort|to settle|resolving|sorting)\b[^.!?]{0,60}"
    r"\b(?:informally|directly|with)\b",
    r"\binformal (?:resolution|discussions?|route|approach|stage)\b[^.!?]{0,40}"
    r"\b(?:failed|not worked|didn't work|did not work|has not|hasn't|unsuccessful|exhausted)\b",
    r"\b(?:not been able|unable|failed) to resolve\b",
    r"\bdespite (?:raising|chasing|several|repeated|numerous|many|our)\b",
    r"\bno further forward\b",
)

DEFAULT_ESCALATION: tuple[str, ...] = (
    r"\bstill (?:not|un\w+|no|haven't|have not|hasn't|has not|waiting|outstanding|awaiting)\b",
    r"\b(?:not|hasn't|has not|haven't|have not|wasn't|was not|isn't|is not)(?: yet)? "
    r"(?:been )?(?:resolved|sorted)\b",
    r"\bunresolved\b",
    r"\bescalat(?:e|ed|es|ing|ion)\b",
    r"\bsenior (?:officer|commissioner|manager|person|member of staff|level|management)\b",
    r"\bhead of service\b",
    r"\bdeputy director\b",
    r"\bpolicy decision\b",
    r"\bdecision (?:on|about) (?:the |our )?policy\b",
    r"\bstrategic commissioning board\b",
    r"\bgoverning board\b",
    r"\bnext stage\b",
    r"\bstage (?:2|3|two|three)\b",
    r"\btake (?:this|it|the matter) further\b",
    r"\b(?:got|gone|went|getting) nowhere\b",
    r"\bno further forward\b",
    r"\b(?:not been able|unable|failed) to resolve\b",
    r"\bcould(?:n't| not) (?:resolve|agree|sort)\b",
    # a policy decision asked for in other words: the policy itself, whoever makes it, a board
    # or cabinet (or the councillors) to decide, the question put before them
    r"\bpolic(?:y|ies) (?:itself|themselves)\b",
    r"\b(?:change|changing|review|reviewing|revisit\w*|reconsider\w*|rethink\w*|overturn\w*|amend\w*|"
    r"rewrit\w*|(?:an )?exception to|look(?:ing)? again at) (?:the |this |that |its |their |your |our |a |the "
    r"council's |the icb's )?(?:[\w-]+ ){0,2}polic(?:y|ies)\b",
    r"\bwho(?:ever)? (?:makes|made|sets|set|decides|owns|wrote) (?:the |this |that )?polic",
    r"\b(?:a |the )?polic(?:y|ies) (?:question|matter|issue|decision|problem|point|level)\b",
    r"\b(?:put|take|taken|taking|took|bring|brought|refer|referred|go|goes|going|went|raise|raised|send|sent|"
    r"submit\w*|table\w*|present\w*)(?: (?:it|this|the matter|the question|the issue|the case|our case|that))?"
    r"(?: up| back| forward| formally)? (?:to|before|in front of) (?:the |their |our |its |a |your )?"
    r"(?:[\w-]+ ){0,2}(?:boards?|cabinet|cabinet member|councillors|elected members|scb|governing body)\b",
    r"\b(?:boards?|cabinet|cabinet member|councillors|elected members|scb|governing body)\b[^.!?]{0,40}\b"
    r"(?:to|should|must|would need to|needs? to|could|can|will have to) (?:decide|make (?:a|the) decision|"
    r"take (?:a|the) decision|rule on|settle (?:it|this|the))\b",
    r"\bdecision (?:by|from|at|of) (?:the |a )?(?:[\w-]+ ){0,2}(?:boards?|cabinet|councillors|elected members|"
    r"scb|governing body)\b",
    # the rules themselves changed by whoever makes them: a board or cabinet member asked to change them
    r"\b(?:rules?|criteria|eligibility|approach|framework|conditions?) (?:itself|themselves)\b",
    r"\b(?:whoever|(?:the )?(?:people|person|those|body) who) (?:makes?|made|sets?|decides?|owns?|agreed|signs?|"
    r"signed) (?:them |it |this |these |that )?(?:off|the (?:approach|polic\w*|rules?|criteria|framework))\b",
    r"\b(?:ask|asks|asking|request|requesting|want|wants|like)\b(?: that)? (?:the |their |its )?(?:[\w-]+ ){0,2}"
    r"(?:boards?|cabinet member|cabinet|councillors|elected members|scb)(?: please)? (?:to )?(?:change|changes|"
    r"reconsider\w*|review\w*|revisit\w*|overturn\w*|reinstate\w*|amend\w*|look again|decide\w*|agree\w*)\b",
)

_NEGATIONS = frozenset({"not", "no", "never", "nor", "neither", "nothing", "without"})
_CLAUSE_BREAK = re.compile(r"[,.;:!?()]|\b(?:and|but|so|because|although|though)\b")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"',
                         "\u2013": "-", "\u2014": "-", "\u00a0": " "})


@lru_cache(maxsize=16)
def normalise(text: str) -> str:
    """Lower-case text with straight quotes and single spaces, the form the signals are matched in
    (made once for the few lists that read one message's words)."""
    return " ".join(text.translate(_QUOTES).lower().split())


def phrase_pattern(phrase: str) -> str:
    """A configured plain-text phrase as a pattern that matches it between word boundaries."""
    words = [re.escape(w) for w in normalise(phrase).split()]
    if not words:
        raise ValueError("a phrase must not be blank")
    return r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)"


def compact_names(profile: Profile) -> tuple[str, ...]:
    """The words a profile's names put before "Compact": ('bexley',) for The Bexley Compact."""
    names: list[str] = []
    for full in (profile.short_name, profile.name):
        words = normalise(full).split()
        if "compact" in words:
            before = words[:words.index("compact")]
            name = " ".join(before[1:] if before[:1] == ["the"] else before)
            if name and name not in names:
                names.append(name)
    return tuple(names)


def _name_the_compact(pattern: str, names: Sequence[str]) -> str:
    words = "|".join(r"\s+".join(map(re.escape, name.split())) for name in [*names, "local"])
    return pattern.replace(COMPACT, f"(?:(?:{words}) )?compact")


def _negated(text: str, start: int) -> bool:
    """True when the words just before a match, within its clause, negate it ("we have not yet ...")."""
    before = text[max(0, start - 60):start]
    pieces = _CLAUSE_BREAK.split(before)
    words = pieces[-1].split()[-4:] if pieces else []
    return any(w in _NEGATIONS or w.endswith("n't") for w in words)


@dataclass(frozen=True)
class PhraseList:
    """One kind of signal: compiled patterns, matched with a simple guard against negation."""

    kind: SignalKind
    patterns: tuple[re.Pattern[str], ...]
    any_of: re.Pattern[str] | None = None

    @classmethod
    def build(cls, kind: SignalKind, regexes: Iterable[str]) -> PhraseList:
        """Compile a list of regular expressions (and one that finds whether any of them matches)."""
        patterns = tuple(re.compile(r) for r in regexes)
        # One pass over the text tells whether any phrase is there at all: most messages carry
        # no escalation or tried-informal phrase, and then the phrases need not be tried one by one.
        any_of = re.compile("|".join(f"(?:{p.pattern})" for p in patterns)) if patterns else None
        return cls(kind, patterns, any_of)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where in normalised text each phrase of the list matches (negated matches left out)."""
        if self.any_of is None or self.any_of.search(text) is None:
            return []
        return [match.span() for pattern in self.patterns for match in pattern.finditer(text)
                if not _negated(text, match.start())]

    def find(self, text: str, outside: Sequence[tuple[int, int]] = ()) -> list[str]:
        """The phrases found in normalised text, each as the words that matched, in order of pattern.

        A match that lies wholly inside one of the `outside` spans (another list's phrase) is
        passed over.
        """
        found: list[str] = []
        if self.any_of is None or self.any_of.search(text) is None:
            return found
        for pattern in self.patterns:
            for match in pattern.finditer(text):
                if _negated(text, match.start()):
                    continue
                if any(start <= match.start() and match.end() <= end for start, end in outside):
                    continue
                words = match.group(0).strip()
                if words not in found:
                    found.append(words)
                break
        return found


@dataclass(frozen=True)
class Signals:
    """The three phrase lists the stage decision reads: dispute, tried informal, escalation."""

    dispute: PhraseList
    tried_informal: PhraseList
    escalation: PhraseList

    @classmethod
    def defaults(cls, profile: Profile | None = None) -> Signals:
        """The built-in British English lists, naming the profile's Compact (default: the default profile's)."""
        return cls.configured({}, replace=False, compact=profile)

    @classmethod
    def configured(cls, phrases: Mapping[str, Sequence[str]], replace: bool = False,
                   compact: Profile | None = None) -> Signals:
        """Defaults plus (or, with replace, instead of) plain-text phrases per kind from a configuration.

        The defaults that mention the Compact know it by the words `compact`'s names use (the
        default profile's when not given).
        """
        names = compact_names(compact if compact is not None else load_profile())
        defaults: dict[SignalKind, tuple[str, ...]] = {
            "dispute": DEFAULT_DISPUTE,
            "tried_informal": DEFAULT_TRIED_INFORMAL,
            "escalation": DEFAULT_ESCALATION,
        }
        lists: dict[SignalKind, PhraseList] = {}
        for kind in SIGNAL_KINDS:
            extra = [phrase_pattern(p) for p in phrases.get(kind, ())]
            base = () if replace else tuple(_name_the_compact(p, names) for p in defaults[kind])
            lists[kind] = PhraseList.build(kind, [*base, *extra])
        return cls(lists["dispute"], lists["tried_informal"], lists["escalation"])

    def _list(self, kind: SignalKind) -> PhraseList:
        phrase_list: PhraseList = getattr(self, kind)
        return phrase_list

    def find(self, kind: SignalKind, text: str, outside: SignalKind | None = None) -> list[str]:
        """The phrases of one kind found in text (normalised here).

        With `outside`, a phrase that is part of a phrase of that other kind is left out: in "we
        spoke to the council but got nowhere" the escalation words 'got nowhere' belong to the
        tried-informal phrase and tell of the informal stage, not of the case's current stage.
        """
        normal = normalise(text)
        spans = self._list(outside).spans(normal) if outside is not None else []
        return self._list(kind).find(normal, spans)
