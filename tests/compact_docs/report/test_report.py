"""The Compact Working Group's report, end to end: a register filled by routing real mail, letters made
by `batch` and `demo`, then `compact-docs report` writing the HTML page, the tagged PDF and the JSON."""

from __future__ import annotations

import email
import json
import mailbox
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import html as lxml_html
from pypdf import PdfReader
from report_data import DATA, fill_register, notice_rows

from cli import cli
from compact_docs.rendering.output import read_manifest
from compact_docs.report import Period, today_in_london
from mailflows.config import CONFIG_ENV, require_config

ORGANISATIONS = [o.name for o in require_config(DATA / "mail" / "compact.toml").organisations]


@dataclass
class Year:
    """A year of casework and letters, and the report made from it."""

    config: Path
    letters: list[Path]
    out: Path
    today: date
    cases: list[dict[str, Any]]
    report: dict[str, Any]
    output: str


def invoke(*args: str | Path, code: int = 0) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Year:
    root = tmp_path_factory.mktemp("year")
    config = root / "compact.toml"
    shutil.copy(DATA / "mail" / "compact.toml", config)
    today = today_in_london()
    fill_register(require_config(config), today)  # eleven months of mail, routed on the days it came
    box = mailbox.mbox(root / "today.mbox")  # and today's mail, through the command line
    now = format_datetime(datetime.now(UTC))
    for name in ("a1.eml", "a2.eml", "c1.eml"):
        message = email.message_from_bytes((DATA / "mail" / "threads" / name).read_bytes())
        message.replace_header("Date", now)  # a case counts from its first message's own date
        box.add(message.as_bytes())
    box.close()
    invoke("mail", "route", "--mbox", root / "today.mbox", "--config", config)
    grants = root / "grants"
    invoke("batch", "notice", notice_rows(root / "notices.csv", today), "--defaults",
           DATA / "batch" / "defaults.yaml", "-o", grants, "--format", "docx", "--workers", "1")
    demo = root / "demo"
    invoke("demo", "-o", demo)
    out = root / "report"
    output = invoke("report", "--config", config, "--letters", grants, "--letters", demo, "-o", out)
    cases = json.loads(invoke("cases", "list", "--json", "--config", config))
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return Year(config, [grants, demo], out, today, cases, report, output)


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CONFIG_ENV, raising=False)


def figure(report: dict[str, Any], figure_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(f for f in report["figures"] if f["id"] == figure_id)
    return found


def rows(report: dict[str, Any], figure_id: str) -> dict[str, list[Any]]:
    return {str(row[0]): row[1:] for row in figure(report, figure_id)["table"]["rows"]}


def test_report_writes_the_page_the_pdf_and_the_json(year: Year) -> None:
    assert sorted(p.name for p in year.out.iterdir()) == ["report.html", "report.json", "report.pdf"]
    assert "10 figures" in year.output and "report.pdf" in year.output
    assert year.report["period"]["to"] == year.today.isoformat()
    assert year.report["deadlines"] == {"stage-1": 10, "stage-2": 20}


def test_every_chart_has_a_title_a_text_alternative_and_its_table(year: Year) -> None:
    page = lxml_html.fromstring((year.out / "report.html").read_bytes())
    charts = page.xpath("//svg")
    assert len(charts) >= 3
    assert len(charts) == sum(1 for f in year.report["figures"] if f["chart"])
    for svg in charts:
        section = svg.getparent()
        heading = section.xpath("./h3")[0].text_content()
        finding = section.xpath("./p[@class='finding']")[0].text_content()
        assert svg.get("role") == "img"
        title_id, desc_id = svg.get("aria-labelledby"), svg.get("aria-describedby")
        assert svg.xpath(f".//*[@id='{title_id}']")[0].text_content() == f"{heading}. {finding}"
        assert "The table after it gives the numbers" in svg.xpath(f".//*[@id='{desc_id}']")[0].text_content()
        assert re.search(r"\d", finding), "a finding states numbers in words"
        table = svg.getnext()
        assert table.tag == "table" and table.xpath("./caption")
        assert table.xpath(".//th[@scope='col']") and table.xpath(".//th[@scope='row']")
        assert svg.xpath(".//text"), "chart text stays text"
    # every figure, chart or not, has its finding and its table
    sections = page.xpath("//section[@class='figure']")
    assert [s.get("id") for s in sections] == [f"figure-{f['id']}" for f in year.report["figures"]]
    for section in sections:
        assert section.xpath("./p[@class='finding']") and section.xpath("./table")


def test_the_page_is_self_contained(year: Year) -> None:
    text = (year.out / "report.html").read_text(encoding="utf-8")
    page = lxml_html.fromstring(text.encode("utf-8"))
    assert page.get("lang") == "en-GB" and page.xpath("//title")[0].text
    assert not page.xpath("//script") and "javascript:" not in text and " on" + "load=" not in text
    assert not page.xpath("//link") and not page.xpath("//img")
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", text)
    assert not re.search(r"url\((?!#|\"data:)", text), "fonts and patterns are inside the page"
    assert "Compact Docs Sans" in text and "data:font/ttf;base64," in text
    ids = page.xpath("//@id")
    assert len(ids) == len(set(ids)), "ids are unique across the charts"
    headings = [h.tag for h in page.xpath("//h1|//h2|//h3")]
    assert headings[0] == "h1" and headings.count("h1") == 1


def test_colours_are_okabe_ito_with_hatching(year: Year) -> None:
    text = (year.out / "report.html").read_text(encoding="utf-8").lower()
    fills = set(re.findall(r"fill: (#[0-9a-f]{6})", text)) | set(re.findall(r'fill="(#[0-9a-f]{6})"', text))
    okabe_ito = {"#0072b2", "#e69f00", "#009e73", "#56b4e9", "#d55e00", "#cc79a7", "#f0e442"}
    used = fills & okabe_ito
    assert len(used) >= 3
    assert fills - okabe_ito <= {"#ffffff", "#1a1a1a", "#000000", "#c8c8c8"}
    assert "<pattern" in text, "series after the first are hatched, so greyscale tells them apart"


def test_counts_agree_with_cases_list(year: Year) -> None:
    period = Period.last_months(12, year.today)
    open_cases = [c for c in year.cases if c["status"] == "open"]
    by_stage = Counter(c["stage"] for c in open_cases)
    table = rows(year.report, "open-cases")
    for stage in (1, 2, 3):
        assert table[f"Stage {stage}"][-1] == by_stage[stage]
    assert table["All stages"][-1] == len(open_cases) == year.report["totals"]["open_now"]

    def received(case: dict[str, Any]) -> date:
        return date.fromisoformat(str(case.get("received") or case["opened"])[:10])

    opened = [c for c in year.cases if received(c) in period]
    assert rows(year.report, "cases-opened")["Total"][-1] == len(opened)
    organisations = Counter(c["organisation"] or "Unknown organisation" for c in opened)
    for name, (count, still_open) in rows(year.report, "organisations").items():
        assert organisations[name] == count
        assert still_open == sum(1 for c in opened if (c["organisation"] or "Unknown organisation") == name
                                 and c["status"] == "open")
    closed = [c for c in year.cases if c["status"] == "closed"]
    assert rows(year.report, "outcomes")["All outcomes"][-1] == len(closed)
    # today's three messages opened a case and joined it; they count in today's month
    assert rows(year.report, "cases-opened")[f"{year.today:%b %Y}"][-1] >= 1


def test_notices_come_from_the_batch_and_demo_manifests(year: Year) -> None:
    period = Period.last_months(12, year.today)
    demo = [r for r in read_manifest(year.letters[1]) if r["kind"] == "notice"
            and date.fromisoformat(r["dates"]["notice_given"]) in period]
    assert all(r["notice"]["action"] in ("end", "reduce", "vary") for r in demo)
    demo_actions = Counter(r["notice"]["action"] for r in demo)
    table = rows(year.report, "notices-issued")
    assert table["Total"] == [5 + demo_actions["end"], 5 + demo_actions["reduce"], 2 + demo_actions["vary"],
                              12 + len(demo)]
    length = rows(year.report, "notice-length")
    assert length["Less than 3 months"] == [2]
    assert length["Used exceptional circumstances"] == [2]
    assert length["Shortest notice (days)"] == [45]
    findings = rows(year.report, "notice-findings")
    assert findings["NOTICE_PERIOD"] == ["warning", 2]
    assert "2 used exceptional circumstances" in figure(year.report, "notice-length")["finding"]


def test_pdf_is_tagged_and_reads_back(year: Year) -> None:
    reader = PdfReader(year.out / "report.pdf")
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    assert str(root["/Lang"]) == "en-GB"
    assert reader.metadata is not None and "disputes and notices" in str(reader.metadata.title)

    tags: Counter[str] = Counter()
    alts: list[str] = []

    def walk(node: Any) -> None:
        node = node.get_object()
        if isinstance(node, list):
            for child in node:
                walk(child)
            return
        if not hasattr(node, "get") or (node.get("/Type") != "/StructElem" and "/S" not in node):
            return
        tags[str(node["/S"])] += 1
        if node["/S"] == "/Figure":
            alts.append(str(node.get("/Alt", "")))
        if "/K" in node:
            walk(node["/K"])

    walk(root["/StructTreeRoot"]["/K"])
    charts = [f for f in year.report["figures"] if f["chart"]]
    assert len(alts) == len(charts) and all(alts)
    assert alts[0].startswith(charts[0]["title"])
    assert tags["/H1"] == 1 and tags["/H3"] == len(year.report["figures"])
    assert tags["/Table"] >= len(year.report["figures"])  # a table split over two pages is two
    text = " ".join(page.extract_text() for page in reader.pages)
    words = " ".join(text.split())
    for f in year.report["figures"]:
        assert f["title"].split(",")[0] in words


def test_each_pdf_page_renders_with_ink(year: Year, tmp_path: Path) -> None:
    from PIL import Image

    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(year.out / "report.pdf"), str(tmp_path / "page")],
                   check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(PdfReader(year.out / "report.pdf").pages) >= 3
    for page in pages:
        with Image.open(page) as image:
            grey = image.convert("L")
            dark = sum(grey.histogram()[:128])
        assert dark > 50, f"{page.name} is blank"


def test_anonymise_names_no_organisation(year: Year, tmp_path: Path) -> None:
    out = tmp_path / "public"
    invoke("report", "--config", year.config, "--letters", year.letters[0], "--anonymise", "-o", out)
    page = (out / "report.html").read_text(encoding="utf-8")
    data = (out / "report.json").read_text(encoding="utf-8")
    text = " ".join(p.extract_text() for p in PdfReader(out / "report.pdf").pages)
    for name in ORGANISATIONS:
        escaped = name.replace("'", "&#39;")
        assert name not in page and escaped not in page and name not in data and name not in text
    names = [row[0] for row in figure(json.loads(data), "organisations")["table"]["rows"]]
    assert names[0] == "Organisation A" and "Organisation B" in names
    assert json.loads(data)["anonymised"] is True


def test_period_options(year: Year, tmp_path: Path) -> None:
    start = date(year.today.year, year.today.month, 1)
    out = tmp_path / "month"
    invoke("report", "--config", year.config, "--from", start.isoformat(), "--to", year.today.isoformat(),
           "-o", out)
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["period"] == {"from": start.isoformat(), "to": year.today.isoformat()}
    assert [row[0] for row in figure(data, "cases-opened")["table"]["rows"]] == [f"{start:%b %Y}", "Total"]
    assert "no notices to count" in figure(data, "notices-issued")["finding"]
    bad = CliRunner().invoke(cli, ["report", "--config", str(year.config), "--from", "2026-05-01",
                                   "--to", "2026-04-01", "-o", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "after --to" in bad.output


def test_a_missing_letters_folder_is_one_clear_line(year: Year, tmp_path: Path) -> None:
    out = invoke("report", "--config", year.config, "--letters", tmp_path / "nowhere", "-o", tmp_path / "r",
                 code=2)
    assert out.strip().startswith("Error: no letters folder") and "Traceback" not in out


def test_an_empty_register_says_so_in_words(tmp_path: Path) -> None:
    config = tmp_path / "compact.toml"
    shutil.copy(DATA / "mail" / "compact.toml", config)
    invoke("report", "--config", config, "-o", tmp_path / "r")
    data = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert not [f for f in data["figures"] if f["chart"]], "no chart where a sentence says it"
    assert figure(data, "open-cases")["finding"].startswith("No cases are open")
    assert not (tmp_path / "cases.db").exists(), "the report never creates the register"
    assert (tmp_path / "r" / "report.pdf").read_bytes().startswith(b"%PDF-")
