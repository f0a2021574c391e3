"""The disputes half of the report: figures read from the case register's cases, events and messages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from compact_docs.register.cases import CaseRegister
from compact_docs.register.records import Case, CaseEvent
from compact_docs.report._calendar import london_date, median, percentile_90, working_days_between
from compact_docs.report._words import count_of, join_words
from compact_docs.report.figures import Cell, Chart, Figure, Period, Series, Table
from compact_docs.rows import column_letter

AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0 to 5 working days", 0, 5),
    ("6 to 10", 6, 10),
    ("11 to 20", 11, 20),
    ("over 20", 21, None),
)
"""Bands of time at the current stage, in working days (the default deadlines are 10 and 20)."""

TOP_ORGANISATIONS = 10
UNKNOWN_ORGANISATION = "Unknown organisation"


@dataclass(frozen=True)
class Stint:
    """A stretch of time a case spent at one stage; `end` is None while it is still there."""

    stage: int
    start: date
    end: date | None


@dataclass(frozen=True)
class CaseHistory:
    """A case with what its events say: the stage it entered at, its stints, when it closed."""

    case: Case
    received: date
    entry_stage: int
    stints: tuple[Stint, ...]
    events: tuple[CaseEvent, ...]

    @property
    def stage_since(self) -> date:
        """When the case reached the stage it is at now."""
        if self.case.stage_since:
            return london_date(self.case.stage_since)
        return self.stints[-1].start if self.stints else self.received


def case_history(case: Case, events: Sequence[CaseEvent]) -> CaseHistory:
    """Walk a case's events into stints: a change of stage (an escalation, or a correction by a
    person) ends one stint and starts the next; closing ends it; any event on a closed case
    (a reopening) starts a new one."""
    received = london_date(case.received or case.opened)  # the first message's own date, when recorded
    entry_stage = events[0].stage if events else case.stage
    stints: list[Stint] = []
    current: tuple[int, date] | None = None
    for event in events:
        day = london_date(event.at)
        if current is None:
            start = received if not stints else day
            current = (event.stage, min(start, day))
            if event.kind == "closed":
                stints.append(Stint(event.stage, current[1], day))
                current = None
            continue
        if event.kind == "closed":
            stints.append(Stint(current[0], current[1], day))
            current = None
        elif event.stage != current[0]:
            stints.append(Stint(current[0], current[1], day))
            current = (event.stage, day)
    if current is not None:
        stints.append(Stint(current[0], current[1], None))
    if not events:
        stints.append(Stint(case.stage, received, None))
    return CaseHistory(case, received, entry_stage, tuple(stints), tuple(events))


def _stage_name(stage: int) -> str:
    return f"Stage {stage}"


def _band(days: int) -> str:
    for label, low, high in AGE_BANDS:
        if days >= low and (high is None or days <= high):
            return label
    return AGE_BANDS[-1][0]


class DisputeFigures:
    """Computes the disputes figures of one register over one period."""

    def __init__(self, register: CaseRegister, period: Period, deadlines: Mapping[int, int],
                 as_of: date, anonymise: bool) -> None:
        self.register = register
        self.period = period
        self.deadlines = dict(deadlines)
        self.as_of = as_of
        self.anonymise = anonymise
        self.jurisdiction = register.profile.jurisdiction
        self.stages = [s.number for s in register.profile.dispute.stages]
        self.entry_stages = [s.number for s in register.profile.dispute.stages if s.entry != "escalation"]
        self.histories = [case_history(c, register.events(c.ref)) for c in register.cases()]
        self.totals: dict[str, int] = {}

    def figures(self) -> list[Figure]:
        """Every disputes figure, in the order the report shows them."""
        return [self.opened_per_month(), self.open_now(), self.time_at_stage(), self.outcomes(),
                self.escalations(), self.organisations(), self.triage()]

    # -- the figures ----------------------------------------------------------------------------

    def opened_in_period(self) -> list[CaseHistory]:
        """The cases whose first message came within the period."""
        return [h for h in self.histories if h.received in self.period]

    def opened_per_month(self) -> Figure:
        """Cases opened per month, by the stage they entered at."""
        opened = self.opened_in_period()
        months = self.period.months()
        labels = self.period.month_labels()
        stages = sorted(set(self.entry_stages) | {h.entry_stage for h in opened})
        counts = Counter((h.received.year, h.received.month, h.entry_stage) for h in opened)
        series = tuple(Series(_stage_name(s), tuple(float(counts[(y, m, s)]) for y, m in months))
                       for s in stages)
        rows: tuple[tuple[Cell, ...], ...] = tuple(
            (label, *(counts[(y, m, s)] for s in stages), sum(counts[(y, m, s)] for s in stages))
            for label, (y, m) in zip(labels, months, strict=True))
        by_stage = Counter(h.entry_stage for h in opened)
        table = Table(("Month", *(f"Opened at stage {s}" for s in stages), "All cases"),
                      (*rows, ("Total", *(by_stage[s] for s in stages), len(opened))))
        self.totals["cases_opened"] = len(opened)
        if not opened:
            return Figure("cases-opened", "disputes", "Cases opened each month",
                          f"No dispute cases were opened from {self.period.describe()}.", table)
        split = join_words([f"{by_stage[s]} at stage {s}" for s in stages if by_stage[s]])
        per_month = [sum(counts[(y, m, s)] for s in stages) for y, m in months]
        busiest = max(per_month)
        busiest_months = [labels[i] for i, n in enumerate(per_month) if n == busiest]
        when = (f"the busiest month was {busiest_months[0]}" if len(busiest_months) == 1
                else f"the busiest months were {join_words(busiest_months)}")
        finding = (f"{count_of(len(opened), 'case')} opened from {self.period.describe()}: {split}; "
                   f"{when}, with {busiest}.")
        chart = Chart("bar", tuple(labels), series, "Cases opened", "Month")
        return Figure("cases-opened", "disputes", "Cases opened each month, by entry stage", finding,
                      table, chart)

    def open_histories(self) -> list[CaseHistory]:
        """The cases open now, as `cases list` shows them."""
        return [h for h in self.histories if h.case.status == "open"]

    def open_now(self) -> Figure:
        """Open cases by stage and by how long they have been at it."""
        open_cases = self.open_histories()
        ages = {h.case.ref: working_days_between(h.stage_since, self.as_of, self.jurisdiction)
                for h in open_cases}
        stages = sorted(set(self.stages) | {h.case.stage for h in open_cases})
        bands = [label for label, _low, _high in AGE_BANDS]
        grid = Counter((h.case.stage, _band(ages[h.case.ref])) for h in open_cases)
        overdue = Counter(h.case.stage for h in open_cases
                          if h.case.stage in self.deadlines and ages[h.case.ref] > self.deadlines[h.case.stage])
        per_stage = Counter(h.case.stage for h in open_cases)
        rows = tuple((_stage_name(s), self.deadlines.get(s), *(grid[(s, b)] for b in bands),
                      overdue[s], per_stage[s]) for s in stages)
        table = Table(("Stage", "Deadline (working days)", *bands, "Overdue", "Open cases"),
                      (*rows, ("All stages", None, *(sum(grid[(s, b)] for s in stages) for b in bands),
                               sum(overdue.values()), len(open_cases))))
        total, late = len(open_cases), sum(overdue.values())
        self.totals["open_now"] = total
        self.totals["overdue"] = late
        day = f"{self.as_of.day} {self.as_of:%B %Y}"
        title = f"Open cases on {day}, by stage and time at that stage"
        if not open_cases:
            return Figure("open-cases", "disputes", title, f"No cases are open on {day}.", table)
        top = max(stages, key=lambda s: (per_stage[s], -s))
        if per_stage[top] == total:
            lead = f"All {total} open cases are at stage {top}"
        elif per_stage[top] * 2 > total:
            lead = f"Most open cases ({per_stage[top]} of {total}) are at stage {top}"
        else:
            lead = (f"The {total} open cases are spread across the stages: "
                    + join_words([f"{per_stage[s]} at stage {s}" for s in stages if per_stage[s]]))
        if total == 1:
            lead = f"One case is open, at stage {open_cases[0].case.stage}"
        late_words = ("none is overdue" if late == 0
                      else f"{late} {'is' if late == 1 else 'are'} overdue")
        oldest = max(open_cases, key=lambda h: ages[h.case.ref])
        finding = (f"{lead}; {late_words}. The longest wait is {count_of(ages[oldest.case.ref], 'working day')} "
                   f"at stage {oldest.case.stage}.")
        series = tuple(Series(b, tuple(float(grid[(s, b)]) for s in stages)) for b in bands)
        chart = Chart("bar", tuple(_stage_name(s) for s in stages), series, "Open cases", "Stage")
        return Figure("open-cases", "disputes", title, finding, table, chart)

    def time_at_stage(self) -> Figure:
        """How long cases spent at each stage before moving on or closing (working days)."""
        spent: dict[int, list[float]] = {s: [] for s in self.stages}
        for history in self.histories:
            for stint in history.stints:
                if stint.end is not None and stint.end in self.period:
                    spent.setdefault(stint.stage, []).append(
                        float(working_days_between(stint.start, stint.end, self.jurisdiction)))
        stages = sorted(spent)
        rows = tuple((_stage_name(s), len(spent[s]), median(spent[s]), percentile_90(spent[s]),
                      self.deadlines.get(s)) for s in stages)
        table = Table(("Stage", "Cases that left the stage", "Median (working days)",
                       "90th percentile (working days)", "Deadline (working days)"), rows)
        title = "Time spent at each stage"
        measured = [s for s in stages if spent[s]]
        if not measured:
            return Figure("time-at-stage", "disputes", title,
                          "No case moved on from a stage or closed in this period, so no stage "
                          "times can be measured yet.", table)
        parts = []
        for s in measured:
            mid, high = median(spent[s]), percentile_90(spent[s])
            assert mid is not None and high is not None
            parts.append(f"{_number(mid)} at stage {s} (90th percentile {_number(high)}, "
                         f"{count_of(len(spent[s]), 'case')})")
        finding = "Median working days spent at a stage: " + join_words(parts) + "."
        over = [s for s in measured if s in self.deadlines
                and (percentile_90(spent[s]) or 0) > self.deadlines[s]]
        if over:
            finding += (" At " + join_words([f"stage {s}" for s in over])
                        + ", more than one case in ten took longer than the deadline.")
        if len(measured) == 1 and len(spent[measured[0]]) < 3:
            return Figure("time-at-stage", "disputes", title, finding, table)  # a sentence says it
        chart = Chart("grouped", tuple(_stage_name(s) for s in measured),
                      (Series("Median", tuple(median(spent[s]) or 0.0 for s in measured)),
                       Series("90th percentile", tuple(percentile_90(spent[s]) or 0.0 for s in measured))),
                      "Working days", "Stage")
        return Figure("time-at-stage", "disputes", title, finding, table, chart)

    def closed_in_period(self) -> list[tuple[CaseHistory, CaseEvent]]:
        """Cases whose last closing falls in the period, with that closing event."""
        found = []
        for history in self.histories:
            if history.case.status != "closed":
                continue
            closing = [e for e in history.events if e.kind == "closed"]
            if closing and london_date(closing[-1].at) in self.period:
                found.append((history, closing[-1]))
        return found

    def outcomes(self) -> Figure:
        """How cases ended: their outcomes, and the stage they closed at."""
        closed = self.closed_in_period()
        names: dict[str, str] = {}
        for history, _event in closed:
            text = _outcome(history.case.outcome)
            names.setdefault(text.casefold(), text)
        counts = Counter((_outcome(h.case.outcome).casefold(), e.stage) for h, e in closed)
        per_outcome = Counter(_outcome(h.case.outcome).casefold() for h, _e in closed)
        stages = sorted({e.stage for _h, e in closed} or set(self.stages))
        order = sorted(per_outcome, key=lambda k: (-per_outcome[k], names[k]))
        rows: tuple[tuple[Cell, ...], ...] = tuple(
            (names[k], *(counts[(k, s)] for s in stages), per_outcome[k]) for k in order)
        table = Table(("Outcome", *(f"Closed at stage {s}" for s in stages), "Cases"),
                      (*rows, ("All outcomes", *(sum(counts[(k, s)] for k in order) for s in stages),
                               len(closed))))
        self.totals["closed"] = len(closed)
        title = "How cases ended"
        if not closed:
            return Figure("outcomes", "disputes", title, "No case was closed in this period.", table)
        at_stage = Counter(e.stage for _h, e in closed)
        top = order[0]
        finding = (f"{count_of(len(closed), 'case')} closed: "
                   + join_words([f"{at_stage[s]} at stage {s}" for s in stages if at_stage[s]])
                   + f". The most common outcome was \u201c{names[top]}\u201d ({per_outcome[top]}).")
        if len(order) < 3:
            return Figure("outcomes", "disputes", title, finding, table)
        shown = order[:8]
        chart = Chart("barh", tuple(names[k] for k in shown),
                      tuple(Series(f"Closed at stage {s}", tuple(float(counts[(k, s)]) for k in shown))
                            for s in stages), "Cases", "Outcome")
        return Figure("outcomes", "disputes", title, finding, table, chart)

    def escalations(self) -> Figure:
        """Escalations in the period, from which stage to which."""
        moves = Counter(e.stage for h in self.histories for e in h.events
                        if e.kind == "escalated" and london_date(e.at) in self.period)
        rows = tuple((f"Stage {s - 1}", f"Stage {s}", moves[s]) for s in sorted(moves))
        table = Table(("From", "To", "Escalations"), (*rows, ("All", "", sum(moves.values()))))
        total = sum(moves.values())
        self.totals["escalations"] = total
        if not total:
            finding = "No case was escalated in this period."
        else:
            finding = (f"{count_of(total, 'escalation')}: "
                       + join_words([f"{moves[s]} from stage {s - 1} to stage {s}" for s in sorted(moves)])
                       + ".")
        return Figure("escalations", "disputes", "Escalations", finding, table)

    def organisations(self) -> Figure:
        """The organisations with most cases opened in the period."""
        opened = self.opened_in_period()
        counts = Counter(h.case.organisation for h in opened)
        still_open = Counter(h.case.organisation for h in opened if h.case.status == "open")
        first_seen = {h.case.organisation: i for i, h in reversed(list(enumerate(opened)))}
        order = sorted(counts, key=lambda o: (-counts[o], first_seen[o]))
        names = self._organisation_names(order)
        shown = order[:TOP_ORGANISATIONS]
        rows = tuple((names[o], counts[o], still_open[o]) for o in shown)
        table = Table(("Organisation", "Cases opened", "Still open"), rows)
        title = "Organisations with most cases"
        notes: tuple[str, ...] = ()
        if self.anonymise:
            notes = ("Names are replaced by letters, in order of cases opened.",)
        if len(order) > TOP_ORGANISATIONS:
            notes += (f"{len(order) - TOP_ORGANISATIONS} more organisations had fewer cases.",)
        if not opened:
            return Figure("organisations", "disputes", title, "No organisation opened a case in this period.",
                          table, None, notes)
        top = shown[0]
        ties = [o for o in shown if counts[o] == counts[top]]
        if len(ties) == 1:
            finding = f"{names[top]} had most cases ({counts[top]} of {len(opened)})"
        else:
            finding = (f"{join_words([names[o] for o in ties])} had most cases "
                       f"({counts[top]} each of {len(opened)})")
        finding += f"; {count_of(len(order), 'organisation')} raised disputes in all."
        if len(order) < 2:
            return Figure("organisations", "disputes", title, finding, table, None, notes)
        chart = Chart("barh", tuple(names[o] for o in shown),
                      (Series("Cases opened", tuple(float(counts[o]) for o in shown)),), "Cases opened",
                      "Organisation")
        return Figure("organisations", "disputes", title, finding, table, chart, notes)

    def _organisation_names(self, order: list[str | None]) -> dict[str | None, str]:
        names: dict[str | None, str] = {}
        letters = 0
        for org in order:
            if org is None:
                names[org] = UNKNOWN_ORGANISATION
            elif self.anonymise:
                names[org] = f"Organisation {column_letter(letters)}"
                letters += 1
            else:
                names[org] = org
        return names

    def triage(self) -> Figure:
        """Messages routed in the period, how many needed a person, how often the router was corrected."""
        dispositions: Counter[str] = Counter()
        for row in self.register.execute("SELECT disposition, recorded FROM messages"):
            if london_date(str(row["recorded"])) in self.period:
                dispositions[str(row["disposition"])] += 1
        corrections = sum(1 for h in self.histories for e in h.events
                          if e.kind == "correction" and london_date(e.at) in self.period)
        staged = sum(n for d, n in dispositions.items() if d.startswith("stage-"))
        triage = dispositions["needs-triage"]
        ignored = dispositions["ignored"]
        total = sum(dispositions.values())
        routed = staged + triage
        rows: list[tuple[Any, ...]] = [
            ("Disputes routed to a stage", staged),
            ("Needed a person (triage)", triage),
            ("Ignored (automatic replies, not disputes)", ignored),
            ("All messages", total),
            ("Corrections of the router by a caseworker", corrections),
        ]
        table = Table(("Messages", "Count"), tuple(rows))
        self.totals.update(messages=total, needs_triage=triage, corrections=corrections)
        if not total:
            finding = "No messages were routed in this period."
        else:
            share = f" ({_percent(triage, routed)} of dispute mail)" if routed else ""
            finding = (f"{count_of(total, 'message')} came in: {staged} reached a stage directly, "
                       f"{triage} needed a person to decide{share}, and {ignored} "
                       f"{'was' if ignored == 1 else 'were'} not disputes. ")
            if corrections:
                rate = f" ({_percent(corrections, routed)} of dispute mail)" if routed else ""
                finding += (f"Caseworkers corrected the router {count_of(corrections, 'time')}{rate}.")
            else:
                finding += "No correction of the router is recorded."
        return Figure("triage", "disputes", "Triage and corrections", finding, table)


def _outcome(text: str | None) -> str:
    cleaned = " ".join((text or "").split()).rstrip(".")
    if not cleaned:
        return "No outcome recorded"
    cleaned = cleaned[:80]
    return cleaned[0].upper() + cleaned[1:]




def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.1f}"


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%"
