"""A year of casework and notices for the report tests: real mail routed on the days it came, real letters."""

from __future__ import annotations

import csv
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from backlog import corpus, varied
from testdata import Clock

from compact_docs.register.cases import CaseRegister
from compact_docs.rules.dates import is_working_day
from mailflows.config import MailConfig
from mailflows.route import route_message

DATA = Path(__file__).resolve().parent / "data"
OUTCOMES = ("Resolved informally", "Payment made", "Monitoring requirements reduced",
            "Withdrawn by the organisation", "Decision upheld after review")


def fill_register(config: MailConfig, today: date, seed: int = 7) -> dict[str, int]:
    """Route about 70 corpus messages over the 11 months before `today`, then escalate and close
    some cases on later days, as caseworkers would. Returns how many of each thing happened."""
    rng = random.Random(seed)
    start = datetime(today.year, today.month, today.day, 10, tzinfo=UTC) - timedelta(days=330)
    clock = Clock(start)
    messages = corpus()
    done = {"messages": 0, "escalated": 0, "closed": 0}
    with CaseRegister(config.database_path, config.compact_profile, clock=clock) as register:
        for number in range(70):
            clock.now = start + timedelta(days=number * 4.5, hours=rng.randint(0, 6))
            _name, raw = messages[number % len(messages)]
            route_message(varied(raw, number, rng), config, register, source="report-test")
            done["messages"] += 1
        for case in register.cases():
            opened = datetime.fromisoformat(case.opened)
            old = (today - opened.date()).days > 90
            if rng.random() < 0.35 and case.stage < register.profile.last_stage:
                clock.now = opened + timedelta(days=rng.randint(5, 30))
                if clock.now.date() < today:
                    register.escalate(case.ref, actor="caseworker", reason="Not resolved at this stage")
                    done["escalated"] += 1
            if rng.random() < (0.85 if old else 0.3):
                clock.now = opened + timedelta(days=rng.randint(35, 80))
                if clock.now.date() < today:
                    register.close_case(case.ref, actor="caseworker", outcome=rng.choice(OUTCOMES))
                    done["closed"] += 1
    return done


def notice_rows(path: Path, today: date) -> Path:
    """A grants register of 12 notices given over the year, most with more than three months'
    notice, two shorter with exceptional circumstances stated."""
    fields = ["organisation.name", "organisation.address", "organisation.contact.name",
              "organisation.contact.email", "organisation.commissioned", "funding.programme",
              "funding.reference", "funding.annual_value", "funding.start", "funding.end",
              "decision.action", "decision.decided_on", "decision.new_annual_value", "notice.sent",
              "notice.effective", "notice.exceptional_circumstances", "eia.date", "response.deadline"]
    actions = ["end", "reduce", "reduce", "vary", "end", "reduce", "end", "vary", "reduce", "end",
               "reduce", "end"]
    notice_days = [120, 95, 100, 150, 92, 200, 110, 60, 97, 181, 45, 130]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(fields)
        for i, action in enumerate(actions):
            sent = today - timedelta(days=320 - i * 27)
            while not is_working_day(sent):  # notice then counts as given the day it is sent
                sent -= timedelta(days=1)
            effective = sent + timedelta(days=notice_days[i])
            short = notice_days[i] < 89
            writer.writerow([
                f"Organisation {i + 1} Trust", "1 High Street | Bexleyheath | DA6 7AA", "Sam Lee",
                f"sam@org{i + 1}.example", "true", "Community Connect", f"LBB-GR-2025-{i + 1:03d}",
                "20000", "2024-04-01", "2028-03-31", action, (sent - timedelta(days=10)).isoformat(),
                "16000" if action == "reduce" else "", f"{sent.isoformat()}T10:00", effective.isoformat(),
                "A safeguarding finding required the service to stop" if short else "",
                (sent - timedelta(days=20)).isoformat(), (sent + timedelta(days=40)).isoformat(),
            ])
    return path


