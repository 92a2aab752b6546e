"""`microweld report` on a QA log of known welds: the PDF's pages, the HTML's sections, what
they say (counts, yield, the Pareto's order, NO-WELD cycles apart, foreign welds, the chain's
check), a hostile part id escaped, a tampered log reported; and end to end after
`microweld run` on the simulated station."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from controller.cli.main import main
from controller.qa.log import QaLog
from controller.qa.record import WeldRecord
from tests.helpers.records import weld_record

HOSTILE = "<script>alert('part')</script>"
FOREIGN_REASON = "foreign weld: fired by another master (weld count 99): no verdict"
# mathtext would take "$\\bogus$" for a formula, and fail on it: the report draws it as text
STOPPED = "stopped: E-STOP $\\bogus$"
OTHER = "tc_cd_cu100_pb200"
ABOVE = "setdown_um 7{} µm above 62.25 µm"
BELOW = "energy_j 9.{} J below 10.3 J"


def _welds() -> list[WeldRecord]:
    """Lot L7: schedule tc_inverter 8 PASS, 3 FAIL (2 above, 1 below and above), a no-weld
    cycle and an aborted weld of a hostile part id; schedule OTHER 2 PASS, 1 FAIL; a foreign
    weld (no lot) among them; lot L8: one weld."""
    recs = [weld_record(k, features={"energy_j": 10.31 + 0.001 * k}) for k in range(8)]
    recs += [
        weld_record(8, "FAIL", reasons=[ABOVE.format(1)]),
        weld_record(9, "FAIL", reasons=[ABOVE.format(2)]),
        weld_record(10, "FAIL", reasons=[BELOW.format(1), ABOVE.format(3)]),
        weld_record(11, "NO-WELD", reasons=["no-weld cycle: force only, no current"]),
        weld_record(12, "ABORTED", part_id=HOSTILE, reasons=[STOPPED], features={}),
        weld_record(
            13, "ABORTED", lot="(unknown)", schedule="", reasons=[FOREIGN_REASON], features={}
        ),
        weld_record(14, schedule=OTHER),
        weld_record(15, schedule=OTHER),
        weld_record(16, "FAIL", schedule=OTHER, reasons=[BELOW.format(2)]),
        weld_record(17, lot="L8"),
    ]
    return recs


@pytest.fixture
def qa(tmp_path: Path) -> Path:
    path = tmp_path / "qa.sqlite"
    log = QaLog(path)
    log.record_all(_welds())
    log.close()
    return path


def _report(qa: Path, out: Path, *selection: str) -> int:
    return main(["report", "--qa-log", str(qa), *(selection or ("--lot", "L7")), "--out", str(out)])


def test_the_pdf_has_a_summary_and_a_page_per_schedule(
    qa: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.pdf"
    assert _report(qa, out) == 0
    said = capsys.readouterr()
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
    # the page objects of the file (not the /Pages tree): summary + 2 schedules
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", data)) == 3
    assert "wrote" in said.out and "3 pages" in said.out and "hash chain verified" in said.out
    assert "report: schedule" in said.err  # progress
    assert not list(tmp_path.glob(".*partial"))


def _sections(html: str) -> list[str]:
    return re.findall(r"<section.*?</section>", html, flags=re.S)


def test_the_html_says_what_was_welded(qa: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert _report(qa, out) == 0
    html = out.read_text(encoding="utf-8")
    summary, other, inverter = _sections(html)
    assert "hash chain: verified" in summary and "selection: lot L7 in " in summary
    assert "microweld " in summary and "station: sim (records of bench-1)" in summary
    # 16 of lot L7 (the foreign weld, of no lot, on no page): 10 PASS of 15 made, a NO-WELD apart
    assert "16 records: 10 PASS, 4 FAIL, 1 ABORTED; yield 66.7 %" in summary
    assert "1 NO-WELD cycles" in summary and "1 foreign welds" in summary
    assert FOREIGN_REASON in summary
    assert f"schedule {OTHER}" in other and "3 welds made: 2 PASS, 1 FAIL, 0 ABORTED" in other
    assert "12 welds made: 8 PASS, 3 FAIL, 1 ABORTED; yield 66.7 %" in inverter
    assert "1 NO-WELD cycles (counted apart" in inverter
    # the Pareto: 3 FAIL welds above on set-down, 1 below on energy, in that order
    rows = re.findall(r"<tr><td>([^<]*)</td><td>(\d+)</td></tr>", inverter)
    assert rows == [("setdown_um above the window", "3"), ("energy_j below the window", "1")]
    # Cpk from the 11 judged welds only (the no-weld cycle's features are the same test
    # values, so its count is what tells): n 11 in the capability table
    assert re.search(r"<td>energy_j</td><td>J</td><td>11</td>", inverter)
    assert "warning: Cp and Cpk from 3 welds are not to be trusted" in other
    assert html.count("data:image/png;base64,") >= 4  # the Pareto and the features' charts


def test_a_hostile_part_id_is_text_in_the_html(qa: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert _report(qa, out) == 0
    html = out.read_text(encoding="utf-8")
    assert "<script" not in html and HOSTILE not in html
    assert f"part &lt;script&gt;alert(&#x27;part&#x27;)&lt;/script&gt;: {STOPPED}" in html


def test_a_tampered_log_is_reported_as_a_failed_chain(
    qa: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = sqlite3.connect(qa)
    db.execute("UPDATE welds SET verdict = 'PASS', reasons = '[]' WHERE id = 9")  # a FAIL hidden
    db.commit()
    db.close()
    out = tmp_path / "r.html"
    assert _report(qa, out) == 1  # written, and the exit says the log is not to be trusted
    assert "hash chain failed: weld 9: content does not match" in capsys.readouterr().out
    summary = _sections(out.read_text(encoding="utf-8"))[0]
    assert 'class="failed"' in summary
    assert "hash chain: failed: weld 9: content does not match its hash (edited?)" in summary


def test_a_time_span_selects_as_log_does(qa: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert _report(qa, out, "--since", "1h", "--until", "now") == 0
    summary = _sections(out.read_text(encoding="utf-8"))[0]
    assert "17 records: 11 PASS" in summary and "1 foreign welds" in summary  # both lots
    assert _report(qa, out, "--since", "2020-01-01", "--until", "2020-01-02") == 2


def test_end_to_end_after_run_on_the_simulated_station(tmp_path: Path) -> None:
    qa, out = tmp_path / "qa.sqlite", tmp_path / "r.html"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "controller.cli", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)

    ran = cli("run", "--count", "3", "--lot", "E2E", "--qa-log", str(qa), "--png", "")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    made = cli("report", "--lot", "E2E", "--qa-log", str(qa), "--out", str(out))
    assert made.returncode == 0, made.stderr
    summary, page = _sections(out.read_text(encoding="utf-8"))
    assert "hash chain: verified" in summary and "selection: lot E2E" in summary
    assert "3 welds made: 3 PASS, 0 FAIL, 0 ABORTED; yield 100.0 %" in page
    assert "schedule tc_inverter_cu100_pb200" in page
    assert "warning: Cp and Cpk from 3 welds" in page


def test_either_backend_gives_the_same_report(qa_target: str, tmp_path: Path) -> None:
    log = QaLog(qa_target)
    log.record_all(_welds())
    log.close()
    out = tmp_path / "r.html"
    assert main(["report", "--qa-log", qa_target, "--lot", "L7", "--out", str(out)]) == 0
    summary = _sections(out.read_text(encoding="utf-8"))[0]
    assert "16 records: 10 PASS, 4 FAIL, 1 ABORTED; yield 66.7 %" in summary
    assert "hash chain: verified" in summary and "1 foreign welds" in summary
