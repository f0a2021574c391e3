"""Weighing a message's own words: the profile's issue types, the phrase rules and the learned models.

The rules that fired become features of the models ('r:dispute-phrase', 'r:issue-monitoring'), so
each model learns how far to trust each rule, and the reasons name both the rule and the words.
"""

from __future__ import annotations

import re
from functools import lru_cache

from compact_docs.rules.disputes import FoundIssue, Weighed
from compact_docs.rules.profile import Profile
from mailflows.config import MailConfig
from mailflows.signals import normalise
from mailflows.text_model import RoutingModels, bundled_weights_exist, features, load_models
from mailflows.word_starts import at_word_starts

POLICY = re.compile(r"polic|board|cabinet|governing|strategic|councillor|members? decision|\bscb\b|elected members|"
                    r"themselves|itself|whoever| who (?:make|made|set|decide|own|agreed|sign)")
"""Escalation phrases that ask for a policy decision (stage 3 in Bexley) rather than more seniority."""


_IssuePatterns = tuple[tuple[str, tuple[re.Pattern[str], ...], re.Pattern[str] | None], ...]
_compiled: dict[int, tuple[Profile, _IssuePatterns]] = {}


def _issue_patterns(profile: Profile) -> _IssuePatterns:
    known = _compiled.get(id(profile))
    if known is None or known[0] is not profile:
        patterns = tuple((t.id, _one_search(t.patterns),
                          re.compile("|".join(f"(?:{u})" for u in t.unless)) if t.unless else None)
                         for t in profile.dispute.issue_types)
        known = _compiled[id(profile)] = (profile, patterns)
    return known[1]


def _one_search(patterns: list[str]) -> tuple[re.Pattern[str], ...]:
    """An issue type's patterns as one alternation, searched in one pass over the text (half the
    time of one pass a pattern), and only at word starts where every pattern can only match there;
    each on its own where they cannot be joined (a global flag)."""
    if not patterns:
        return ()
    try:
        return (at_word_starts("|".join(f"(?:{p})" for p in patterns)),)
    except re.error:
        return tuple(re.compile(p) for p in patterns)


_SENTENCE_END = re.compile(r"[.!?]")


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence (between full stops, question or exclamation marks) around text[start:end]."""
    before = max((m.end() for m in _SENTENCE_END.finditer(text, max(0, start - 300), start)), default=0)
    after = _SENTENCE_END.search(text, end)
    return text[before:after.start() if after else len(text)]


def find_issue_types(profile: Profile, text: str) -> tuple[FoundIssue, ...]:
    """The profile's issue types whose words are in a text, each with the words that matched
    (a match whose sentence holds one of the type's 'unless' words does not count)."""
    normal = normalise(text)
    found: list[FoundIssue] = []
    for issue_id, patterns, unless in _issue_patterns(profile):
        if unless is None:
            match = next((m for pattern in patterns if (m := pattern.search(normal))), None)
        else:
            match = next((m for pattern in patterns for m in pattern.finditer(normal)
                          if not unless.search(_sentence(normal, m.start(), m.end()))), None)
        if match:
            words = match.group(0).strip()
            shown = words if len(words) <= 60 else words[:57].rstrip() + "..."
            found.append(FoundIssue(issue_id, f"'{shown}'", match.start()))
    return tuple(found)


# Concepts of having tried to settle it and got nowhere, in people's own words: a contact made
# (rang, wrote, chased, met ...) and, near it, a sign that it failed (no reply, out of her hands,
# round in circles ...); some signs of failure tell it on their own.
# A contact not made ('we haven't chased') is none.
_CONTACT = (r"\b(?<!not )(?<!n't )(?<!never )(?<!not yet )"
            r"(?:rang|rung|phoned|called|ring|emailed|e-mailed|wrote|written|chased|chasing|raised|"
            # 'asked us to', 'asked all providers': the commissioner asking, not an attempt of the sender's
            r"(?<!they )(?<!she )(?<!he )asked(?! (?:us|all|its|every|them|providers)\b)|spoke|spoken|talked|met|"
            r"meeting|contacted|explained (?:it|this|that|the \w+) to|"
            r"followed up|follow-ups?|tried|"
            # 'been emailing' tells of a contact; 'I'm emailing about ...' is this message itself
            r"(?<!i'm )(?<!i am )(?<!we're )(?<!we are )(?<!be )(?:emailing|ringing|phoning|calling)|"
            r"e-?mails|filled in|submitted|lodged|corresponding|correspondence|"
            r"been in touch|went to|visited|complained|queried|reminded|tickets?|voicemails?|left (?:a )?messages?|"
            r"went to see|pointed out|meetings?|discuss(?:ed|ing)?|sent (?:her|him|them|it)|reported|promised|"
            r"went back to|(?:on|by|over) the (?:phone|telephone)|by e-?mail|contact form|chasers?|offered|"
            r"(?:took|taken|take) it up|phone (?:him|her|them|again)|leave (?:a )?messages?|"
            r"(?:said|promised) (?:he|she|they|it) (?:would|will|'d))\b")
_FAILED = (r"\b(?:no (?:reply|replies|response|answer|acknowledgement|call back|progress|joy|luck)|"
           r"nothing (?:back|since|at all|has (?:happened|changed)|happened|changed)|"
           r"so much as an? (?:acknowledge?ment|reply|response|answer)|"
           r"(?:is|are|has|have) yet to (?:respond|reply|answer|acknowledge|get back|come back)|"
           r"nada|zilch|not a (?:single )?(?:peep|squeak|dicky ?bird|word)|"
           r"heard nothing|got nothing|nothing at all|(?:not|never|haven't|have not) heard(?! of)|"
           r"hasn't replied|(?:went|gone|go) unanswered|unanswered|not (?:been )?(?:called|rung|got) back|"
           r"never (?:called|rang|got) back|"
           # a call or a voicemail not returned ('the voicemails I left weren't returned')
           r"(?:weren't|were not|wasn't|was not|never|haven't been|hasn't been) returned|"
           # 'nobody has told us' or 'nobody has suggested another hall' is a change nobody
           # announced, not an attempt that failed
           r"(?:nobody|no-?one) (?!(?:has |ever |will |can )?(?:told|discussed|explained|offered|consulted|asked|said|"
           r"mentioned|warned|spoken|talked|checked|let|suggested|proposed|contacted|informed|notified)\b)"
           r"(?:has|ever|will|can|replied|came|comes|does|got back)|"
           r"(?:holding|automatic) (?:reply|response|acknowledgement)|not even an acknowledgement|"
           r"(?:still|again) (?:no|nothing|not|waiting|outstanding|unpaid|unresolved)|"
           # 'twice' as an attempt, not as how often something runs ('meets twice a week')
           r"(?:twice|three times|four times|five times|several times)(?! (?:a|per|each|every) (?:week|month|day|"
           r"year|fortnight|term|session)| weekly| monthly| daily| yearly)|(?:repeatedly|again and again|"
           r"every time|each time|(?:second|third|fourth) time)|"
           r"looked into|leave it with me|being looked at|with finance|come back to us|"
           r"(?:would|will) get back|"
           r"(?:meeting|call|appointment|visit)s? (?:was |were |got |has been |have been )?(?:cancell?ed|postponed|"
           r"put off|moved)|cancell?ed (?:it |them )?(?:again|twice|on the day|the day before|at the last minute)|"
           r"postponed (?:again|twice)|"
           r"(?:not|stopped|isn't|is not|aren't|never) (?:answering|responding|replying|returning)|"
           r"(?:doesn't|don't|didn't|did not|never) "
           r"(?:reply|replied|answer|answered|respond|responded|come back|came back)|"
           r"nothing (?:came|come|comes) back|(?:gone|went) quiet|radio silence|ignored|"
           r"(?:won't|will not|wouldn't|would not|refused to|refuses to) "
           r"(?:discuss|engage|budge|listen|reconsider|change)|"
           r"not prepared to|said no|turned (?:it|us|me) down|no record of|"
           r"passed (?:it|us|me|the|our|your) (?:\w+ )?(?:on|to)|told (?:us|me) to (?:ask|speak|talk|contact|go to)|"
           r"still (?:hasn't|has not|haven't|have not|isn't|is not)|has still not|have still not|"
           # someone else not answering ('she hasn't replied'), not the sender ('I haven't replied')
           r"(?<!\bi )(?<!\bwe )(?:has|have|had|does|do|did)(?:n't| not) (?:called|rung|phoned|replied|responded|"
           r"answered|answer|"
           r"reply|respond|got back|come back|been in touch)|(?:then )?(?:absolutely )?nothing(?: else)?,|"
           r"and then (?:absolutely )?nothing|every (?:conversation|meeting|call|e-?mail|letter)|"
           r"(?:haven't|have not|hasn't|has not|not|never) (?:had|got|received) (?:a |any )?(?:reply|response|answer)|"
           r"(?:there has been|there's been|we've had|we have had) nothing|"
           r"many times|\d+ times|(?:two|six|seven|eight|nine|ten) times|"
           r"(?:nobody|no-?one) (?:call|calls|called|rang|rings?|answers?|answered|repl(?:y|ies)|came|come)\b(?! to)|"
           r"no exceptions?|that was (?:two|three|four|five|six|seven|eight|several|\d+) (?:[\w-]+ )?ago|"
           r"(?:two|three|four|five|\d+) separate (?:times|occasions)|and again (?:in|on) (?:january|february|march|"
           r"april|may|june|july|august|september|october|november|december)|"
           r"(?:cannot|can't|won't|will not) be (?:changed|extended|moved|reconsidered|revisited|reopened)|"
           r"(?:they|she|he) (?:said |says )?[\"']?(?:can't|cannot|can not|couldn't|won't|will not|wouldn't) "
           r"(?:vary|change|move|budge|make an exception|do anything|help|agree|reopen|revisit|reconsider)|"
           r"(?:still )?under review|one-line (?:e-?mail|reply|response|answer)|tells? (?:us|me) nothing|"
           r"(?:saying|said|says|told (?:us|me)|confirmed|confirming|states?) (?:that )?"
           r"(?:it'?s|it is|the decision is|this is|that'?s) final|repeated (?:themselves|himself|herself|the same))\b")
_FAILED_ALONE = (r"\b(?:round in circles|back and forth|out of (?:her|his|their|my) hands|"
                 r"being (?:sent|passed|pushed|bounced|shunted) (?:from one|back and forth|round|around|between)|"
                 r"that was the last (?:we|i) heard|nothing (?:ever )?happens|"
                 r"(?:gone|got|come|taken (?:it|this)) as far as (?:we|i) can|every (?:reply|response|answer)|"
                 r"(?:a|it's a|it is a|met with a) closed door|(?:their|her|his|the council's|the icb's) final "
                 r"(?:word|answer|position)|"
                 r"(?:all|both|each|every one|everything) (?:of them )?(?:was |were )?turned down|"
                 r"not something (?:i|we|she|he|they) (?:can|could|am able to|are able to|is able to) "
                 r"(?:change|do anything about|agree to|reconsider)|"
                 r"(?:unable|not able|not in a position) to (?:reconsider|make (?:an )?exceptions?|agree (?:a|to|the))|"
                 r"(?:can't|cannot|couldn't|could not) get (?:anyone|anybody|hold of anyone|a (?:reply|response|"
                 r"straight answer)|an answer)|never (?:got|been|get) (?:back )?in touch|no straight answer|"
                 r"(?:won't|will not|wouldn't|would not) give (?:me|us) a straight answer|"
                 r"(?:sympathy|sympathetic|apologies|apologetic)\b[^.!?]{0,30}\b(?:and|but) nothing (?:else|more)|"
                 r"(?:each|every) (?:month|week|time)\b[^.!?]{0,80}\bnext (?:week|month)|"
                 r"(?:asked|rang|emailed|tried|spoken to|spoke to) (?:two|three|four|five|several|\d+) (?:different )?"
                 r"(?:people|officers|teams|departments|managers)|"
                 r"neither (?:of them )?(?:has|have) (?:replied|responded|answered|got back|come back)|"
                 r"(?:each|both) (?:of them )?(?:saying|says|say) (?:it'?s|it is) the other|"
                 r"(?:ticket|case|query|enquiry|complaint|incident) (?:has been |had been |was |got |been )?"
                 r"(?:closed|marked (?:as )?resolved)|"
                 r"(?:didn't|did not|never|failed to) (?:turn up|show up|attend|come)(?: to)?(?: either| any| both)?"
                 r"(?: of)?(?: the| our)?(?: last| two| three| agreed)* (?:meeting|visit|appointment)s?|"
                 r"above (?:her|his|their) (?:head|pay ?grade)|"
                 r"(?:nothing|(?:don't|do not) think (?:there's|there is) anything|not anything) (?:more|else) "
                 r"(?:that )?(?:we|i) can do|"
                 r"hands (?:are|were) tied|no authority to|nothing (?:she|he|they) (?:can|could) do|"
                 r"could(?:n't| not) (?:do anything|help)|end of the road|run out of ideas|tried everything|"
                 r"done (?:the informal bit|what we can|all we can)|third time of asking|got nowhere(?! else| to\b)|"
                 r"getting nowhere|gone nowhere|not got anywhere|no further forward|each telling (?:me|us) to ask|"
                 r"passed (?:from|between|around)|not their (?:problem|responsibility)|decision (?:was|had been) "
                 r"made (?:above|higher|elsewhere)|stage (?:2|two)|next stage|"
                 r"fobbed (?:us |me )?off|brushed (?:us |me )?off|stonewall\w*|run-?around|brick wall|dead end|"
                 r"(?:sending|sent|pointing|passing) us (?:back and forth|round|around|from one)|blaming each other|"
                 r"(?:each|one) (?:is |keeps )?(?:sending|telling|pointing) (?:us|me) (?:to|at) the other|"
                 r"(?:not|stopped) (?:answering|returning|replying to) "
                 r"(?:my|our) (?:calls|emails|e-mails|messages|phone)|"
                 r"(?:gone|went) (?:quiet|silent)|radio silence|"
                 r"(?:won't|will not|refused to|refuses to|wouldn't|would not) "
                 r"(?:discuss|talk about) (?:it|this|the matter)|"
                 r"no record of (?:any|the|our|that) (?:agreement|conversation|call|email)|"
                 r"(?:nobody|no-?one|no (?:human|real person|person))(?: (?:at|from|in) [\w' ]{1,30})?"
                 r" (?:has |have |had |ever )?(?:come back|got back|"
                 r"replied|responded|answered|been in touch|called back|rung back)|none the wiser|out of ideas|"
                 r"(?:after|despite) (?:two|three|four|five|six|several|many|numerous|repeated|countless|\d+) "
                 r"(?:e-?mails|calls|phone calls|letters|messages|chasers|reminders|attempts|visits|meetings)|"
                 r"keeps? (?:telling|saying|promising|assuring)|"
                 # already asked, but only today, or still waiting to hear: an attempt under way, not one that failed
                 r"already (?:asked|rang|phoned|emailed|e-mailed|spoke|spoken|raised|chased|tried|been on to)"
                 r"(?![^.!?]{0,60}\b(?:today|this (?:morning|afternoon|evening)|and (?:we are|we're|i am|i'm) "
                 r"(?:now |still )?waiting))|"
                 r"(?:asked|rang|phoned|emailed|chased|told) (?:\w+ )?already|"
                 r"not (?:her|his|their|my) (?:budget|area|department|remit|job|decision|call)\b|"
                 r"(?:not|stopped|never) (?:replying|responding|answering|getting back)|rings? out|"
                 r"goes (?:straight )?to (?:voicemail|answerphone)|(?:nobody|no-?one) (?:has )?picked (?:it )?up|"
                 r"(?:heard|had) nothing (?:back|since)|no (?:reply|response|answer) (?:since|to (?:my|our|any))|"
                 r"(?:my|our) (?:e-?mails|calls|letters|messages)(?: since)? (?:have|had|went|go|got) "
                 r"(?:had )?(?:no|unanswered|nowhere)|at every turn|nothing (?:can|could) be done|"
                 r"(?:holding|automatic|automated) (?:reply|response|acknowledge?ment)(?!:)|"
                 r"run out of (?:people|options|places|ideas)|"
                 r"(?:nobody|no-?one) (?:call|calls|called|rang|rings|rung|phoned|got|get|gets) (?:us |me )?back|"
                 r"(?:nobody|no-?one|(?:she|he|they) never) did\b|"
                 r"(?:it|this|the (?:issue|matter|item|question|request)) (?:was|were|has been|got) parked|"
                 r"since then,? (?:- |– )?nothing|round we go|round and round|"
                 r"(?:and|just) (?:disappears?|disappeared|vanish(?:es|ed))|"
                 r"(?:gone|went) (?:from )?above (?:her|him|them|his|their)|"
                 r"(?:2nd|3rd|4th|second|third|fourth|final) (?:chaser|reminder)|"
                 r"none of (?:those|these|them|which|that) (?:will|would|is|are) (?:do|acceptable|enough)|"
                 r"(?:did|already) ask(?:ed)? (?:\w+ )?first|"
                 r"(?:this|here) is the (?:answer|reply|response) (?:we|i) (?:got|had|received)|"
                 r"(?:wrote|rang|emailed|e-mailed|chased|chasing|phoned|called|asked|tried) "
                 r"(?:them |her |him |it |the [\w-]+ (?:team |office )?)?again|"
                 r"(?:never|not|didn't|did not|doesn't|don't) (?:call|calls|ring|rings|phone|phones) (?:us |me )?back|"
                 r"(?:months|weeks) after (?:asking|chasing|raising it|(?:we|i) (?:first )?(?:asked|raised it))|"
                 r"(?:was|were|been|got|gets|keep getting|keeps getting) passed (?:back |on )?to)\b")
# Said outright: a dispute in the first person or as a formal step; informal resolution tried and
# failed in so many words. Natural mail rarely says either (the models weigh what it does say), but
# when it does, the rule decides.
_TRIED_EXPLICIT = at_word_starts(
    r"\binformal(?:ly)? (?:resolution|discussions?|route|approach|stage|talks|attempts?)\b[^.!?]{0,60}"
    r"\b(?:failed|not worked|didn't work|did not work|unsuccessful|exhausted|got nowhere|gone nowhere|"
    r"come to nothing|not resolved|hasn't resolved|has not resolved)|"
    r"\b(?:tried|attempted|trying) to (?:resolve|settle|sort out|sort) (?:it|this|the (?:issue|matter|problem))"
    r"(?: \w+){0,3} (?:informally|directly|with (?:the|our) (?:commissioner|council|icb|contract manager))|"
    r"\b(?:already|have) (?:raised|discussed|taken up) (?:this|it|the (?:issue|matter))(?: up)? with "
    r"(?:the|our) (?:commissioner|commissioning \w+|contract manager|council|icb)\b")
_DISPUTE_EXPLICIT = at_word_starts(
    r"\b(?:(?:we|i)(?: (?:would|wish|want|need|must|have|are|am|do|strongly|formally|therefore|also|"
    r"now|still|really|to)){0,3} (?:object|complain|dispute|appeal|challenge|contest)\w*|"
    r"(?:formal|official) (?:complaint|objection|dispute|appeal)|in dispute with|"
    r"(?:we|i)(?:'d| would)? (?:like|want|wish|need) to (?:raise|make|lodge|register|submit|bring) "
    r"(?:a|an|this as a) (?:formal )?(?:complaint|objection|dispute)|raise a dispute|"
    r"(?:contrary to|in breach of|a breach of|breach(?:es|ed)?|goes against|against the spirit of|"
    r"not in line with) the (?:\w+ )?compact)\b")
# Asking for someone more senior is asking for the Compact's second stage, where BVSC finds a
# senior person to take the issue up: an organisation rarely asks it before trying its commissioner.
_ASKS_SENIOR = at_word_starts(
    r"\b(?:(?:someone|somebody|anyone|a person|people) (?:more senior|higher up|above|senior|with (?:the )?"
    r"authority|who can (?:actually )?(?:decide|make (?:a|the|this) decision|sort|change))|more senior|"
    r"senior (?:person|officer|manager|level|commissioner|colleague)|higher level(?! \d)|next level(?! \d)|higher up|"
    # a senior title asked for, not a colleague's title mentioned ('James (Head of Service) says')
    r"(?:a|the|to|with|your|their|someone at) (?:head of (?:service|commissioning)|deputy director|"
    r"assistant director|associate director|cabinet member)|"
    r"escalat\w+|take (?:it|this|the matter) (?:further|up|forward|higher)|taken further|"
    r"go (?:higher|over (?:her|his|their) heads?)|(?:go|going) above (?:the |her |his |their |him |them )|"
    r"whoever is (?:her|his|their) (?:manager|boss)|(?:manager|boss) or (?:higher|above)|"
    r"(?:someone|somebody|anyone|a person|people) who (?:does |actually )?(?:has|have) (?:the |real |some )?"
    r"(?:authority|power))\b")
# What else a person writes to a dispute mailbox (the issue's list: a question about the Compact,
# an invitation, thanks, a volunteer enquiry, a change of contact, a request for a letter of
# support, a booking): rules the dispute model weighs against a dispute, never for one.
_SOMETHING_ELSE = {
    "question": at_word_starts(
        r"\b(?:how (?:much|long|many|do|does|can|should|would)|what (?:is|are|does|do|should|happens)|"
        r"does the (?:[\w-]+ )?compact|is there (?:a|any)|do you have (?:a|any)|"
        r"(?:can|could) (?:you|bvsc|someone) (?:tell|explain|advise|"
        r"let (?:me|us) know)|i(?: was|'m)? wonder(?:ing)? (?:if|whether)|just wondering|quick question|"
        r"(?:a|one) question (?:about|on|regarding)|is (?:this|it|that) (?:a |an )?(?:compact|bvsc) (?:issue|matter|"
        r"question|thing))\b[^?]{0,200}\?|\b(?:a question|not (?:a|making a|raising a|lodging a) (?:formal )?"
        r"(?:complaint|dispute))\b[^.!?]{0,40}\bnot (?:a|making a) (?:formal )?(?:complaint|dispute)\b|"
        r"\bnot (?:making|raising|lodging) a (?:formal )?(?:complaint|dispute)\b"),
    "thanks": at_word_starts(r"^[^.!?]{0,60}\b(?:thank you|thanks|many thanks|thank-you|diolch|dziękuj\w*)\b"
                         r"(?! in advance)(?! for (?:your|any) help in advance)"),
    "invitation": at_word_starts(
        r"\b(?:you(?:'re| are) (?:warmly |cordially )?invited|(?:like|love|pleased|delighted) to invite|"
        r"invit(?:e|ing) you|invitation to|save the date|rsvp|join us (?:for|at|on)|"
        r"would (?:love|like) (?:you|bvsc|someone from bvsc) to (?:come|join|attend|speak))\b"),
    "volunteer": at_word_starts(
        r"\b(?:(?:i|we)(?:'d| would) (?:like|love) to volunteer|volunteering (?:opportunit\w+|roles?)|"
        r"volunteer (?:opportunit\w+|roles?|with (?:you|bvsc))|become a volunteer|interested in volunteering)\b"),
    "contact-change": at_word_starts(
        r"\b(?:(?:new|change of|updated?|changed) (?:contact details|e-?mail address|address|phone number|"
        r"main contact|contact)|please update your (?:records|contacts|mailing list|list|database)|"
        r"(?:i am|i'm|i will be) leaving|(?:i have|i've) (?:now )?left|no longer (?:work|working|at|with)|"
        r"my (?:successor|replacement)|will be taking over (?:from|as))\b"),
    "support-letter": at_word_starts(
        r"\b(?:letter of support|support(?:ing)? letter|letter supporting|letter to support|"
        r"endorse(?:ment of)? (?:our|an?) (?:bid|application))\b"),
    "booking": at_word_starts(
        r"\b(?:book (?:a |two |\d+ )?places?|booking (?:a )?place|places? (?:left|available) on|"
        r"(?:sign|signed) up for the (?:course|training|workshop|session)|"
        r"register for the (?:course|training|workshop|event|forum))\b"),
}
_TRIED_NEAR = at_word_starts(f"(?:{_CONTACT}.{{0,300}}?{_FAILED})|(?:{_FAILED}.{{0,160}}?{_CONTACT})")
_TRIED_ALONE = at_word_starts(_FAILED_ALONE)
_FAILED_ANYWHERE = at_word_starts(_FAILED)
_CONTACT_ANYWHERE = at_word_starts(_CONTACT)


def tried_concepts(text: str) -> tuple[str, ...]:
    """The words that tell of a failed attempt to settle it (the 'tried' concept rules)."""
    normal = normalise(text)
    found = []
    # A contact near a sign of failure needs both somewhere: most texts lack one, found in one pass.
    near = _FAILED_ANYWHERE.search(normal) is not None and _CONTACT_ANYWHERE.search(normal) is not None
    for pattern in (_TRIED_ALONE, _TRIED_NEAR) if near else (_TRIED_ALONE,):
        match = pattern.search(normal)
        if match:
            words = match.group(0).strip()
            found.append(words if len(words) <= 60 else words[:57].rstrip() + "...")
    return tuple(found)


_ENGLISH = frozenset((
    "the", "and", "to", "of", "a", "in", "we", "our", "is", "it", "for", "that", "this", "on",
    "have", "has", "was", "be", "with", "are", "not", "you", "they", "but", "as", "at", "by",
    "from", "us", "an", "or", "i", "my", "can", "been", "will", "would", "there", "their", "what",
    "which", "about",
))


_LETTERS = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=64)  # asked of one message's words by several rules
def mostly_not_english(text: str) -> bool:
    """Whether a text is mostly in another language (few English function words in it)."""
    words = _LETTERS.findall(text[:6_000].lower())[:400]
    return len(words) >= 8 and _english_share(words) < 0.12


_SEGMENTS = re.compile(r"\n|(?<=[.!?])\s+|\s+/\s+")


def words_to_weigh(text: str) -> str:
    """The words the models weigh: a text mostly in another language is weighed on its English
    lines (a subject's gloss, an 'In English:' paragraph), which the models have learned; the
    n-grams of a language they have seen in a handful of messages would only add noise."""
    if not mostly_not_english(text):
        return text
    english = [part for part in _SEGMENTS.split(text)
               if len(words := _LETTERS.findall(part.lower())) >= 2 and _english_share(words) >= 0.15]
    return "\n".join(english) if sum(len(p.split()) for p in english) >= MIN_ENGLISH_WORDS else text


MIN_ENGLISH_WORDS = 4
"""Fewer English words than this in a text in another language: the whole text is weighed."""


def _english_share(words: list[str]) -> float:
    """The share of lower-cased words that are English function words (a non-empty list)."""
    return sum(w in _ENGLISH for w in words) / len(words)


def said_outright(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What a text says outright: (a dispute, informal resolution tried and failed), as words."""
    normal = normalise(text)
    found: list[tuple[str, ...]] = []
    for pattern in (_DISPUTE_EXPLICIT, _TRIED_EXPLICIT):
        words = [m.group(0).strip() for m in pattern.finditer(normal) if not _negated(normal, m.start())]
        found.append(tuple(w if len(w) <= 60 else w[:57].rstrip() + "..." for w in words[:3]))
    return found[0], found[1]


def _negated(text: str, start: int) -> bool:
    before = text[max(0, start - 30):start].split()[-3:]
    return any(w in ("not", "no", "never", "haven't", "hasn't", "don't", "didn't", "yet") for w in before)


TRIED_RULES = ("tried-phrase", "tried-failed", "tried-contact-failed")
"""The rules (of `rule_names`) that find a failed attempt told in the sender's words."""


def rule_names(dispute: tuple[str, ...], tried: tuple[str, ...],
               issues: tuple[FoundIssue, ...], text: str = "") -> list[str]:
    """The rules that fired, as model features."""
    names = [f"issue-{i.id}" for i in issues]
    if dispute:
        names.append("dispute-phrase")
    if tried:
        names.append("tried-phrase")
    if text:
        if mostly_not_english(text):
            names.append("not-english")
        normal = normalise(text)
        if _TRIED_ALONE.search(normal):
            names.append("tried-failed")
        if _TRIED_NEAR.search(normal):
            names.append("tried-contact-failed")
        if _ASKS_SENIOR.search(normal):
            names.append("asks-senior")
        names += [f"other-{kind}" for kind, pattern in _SOMETHING_ELSE.items() if pattern.search(normal)]
        if _thanks_for_a_settlement(text):
            names.append("other-settled")
    return names


_SETTLED = at_word_starts(
    # not 'hasn't come through' or 'not yet sorted'
    r"\b(?<!n't )(?<!not )(?<!never )(?<!yet )"
    r"(?:all (?:good|sorted)|(?:now|been|is|it's|got it|all) sorted(?: out)?|sorted now|(?:been|now|was|is) "
    r"resolved|turned up|came through|come through|(?:has|have|had) (?:now )?(?:arrived|landed|come in|gone through)|"
    r"(?<!n't )(?<!not )(?<!never )arrived\b[^.!?()]{0,30}\b(?:today|this morning|yesterday|on (?:\w+day|\d))|"
    r"(?:no further action|nothing (?:more|further)) "
    r"(?:is )?needed|close the loop|(?:consider|treat) (?:this|it|the matter)(?: one)? (?:as )?closed|"
    r"(?:matter|case|this|it) can (?:now )?be closed|(?:said|did)\b[^.!?]{0,40}\bworked\b|"
    r"(?:were|was|been|has been|have been|got) paid "
    r"(?:this|today|yesterday|on|in full|last)|it worked|(?:landed|appeared) in (?:our|the) (?:account|bank))\b")
_THANKS = re.compile(r"\b(?:thank|thanks|grateful|appreciate)")
SETTLED_WORDS = 70
"""At most this many words in a message that thanks for a settled matter (a longer one goes on to
raise something else)."""


def _thanks_for_a_settlement(text: str) -> bool:
    """Whether a short message thanks for a matter now settled ('the missing £1,250 turned up on
    Friday ... thanks for chasing it'): a thank-you, not a dispute. Read past the subject line, which
    a thank-you repeats from the complaint ('Re: Q2 grant - £1,250 missing')."""
    body = text.partition("\n")[2]
    if len(body.split()) > SETTLED_WORDS:
        return False
    normal = normalise(body)
    return bool(_THANKS.search(normal) and _SETTLED.search(normal))


def weigh(models: RoutingModels | None, text: str, rules: list[str], *, dispute: bool = True,
          tried: bool = True) -> tuple[Weighed | None, Weighed | None]:
    """The 'dispute' and 'tried' models' answers for a text, or None where there is no model
    (or the answer is not asked for: a reply on a case is not weighed for being a dispute)."""
    if models is None or not (dispute or tried):
        return None, None
    vector = features(words_to_weigh(text), rules)
    answers: list[Weighed | None] = []
    for name, wanted in (("dispute", dispute), ("tried", tried)):
        model = models.get(name)
        if model is None or not wanted:
            answers.append(None)
            continue
        score = model.score(vector)
        answers.append(Weighed(score.probability, score.words()))
    return answers[0], answers[1]


def models_for(config: MailConfig) -> RoutingModels | None:
    """The models a configuration routes with: its trained weights if written, else the bundled ones."""
    if not config.mail.routing.learned:
        return None
    path = config.weights_path
    if path.is_file():
        return load_models(path)
    if not bundled_weights_exist():
        return None
    return load_models(None)
