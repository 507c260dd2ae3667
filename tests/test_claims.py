"""Tests for nntrain.claims: the "Claims checked" table and its assertion."""

from __future__ import annotations

import numpy as np
import pytest
from nntrain.claims import LEDGER_DIR, VERDICTS, Claims, Ledger


def claims_with(*rows):
    c = Claims()
    for claim, measured, expected in rows:
        c.add(claim, source="test", measured=measured, expected=expected, verdict="holds")
    return c


# --------------------------------------------------------------------------------------
# add()
# --------------------------------------------------------------------------------------


def test_add_records_a_row():
    c = Claims()
    c.add(
        "A [3, 4, 4, 1] net has 41 parameters",
        source="CS231n notes",
        measured=41,
        expected=41,
        verdict="holds",
    )
    assert c.rows == [
        dict(
            claim="A [3, 4, 4, 1] net has 41 parameters",
            source="CS231n notes",
            measured=41,
            expected=41,
            verdict="holds",
            why="",
            flips_at=None,
            favourable=None,
            kind="empirical",
        )
    ]


@pytest.mark.parametrize("verdict", ["Holds", "true", "partly", "", None, "does not hold"])
def test_add_rejects_unknown_verdicts(verdict):
    c = Claims()
    with pytest.raises(ValueError, match="verdict"):
        c.add(
            "x",
            source="s",
            measured=1,
            expected=1,
            verdict=verdict,
            why="because",
            favourable=("s", 1),
        )
    assert c.rows == []


@pytest.mark.parametrize("verdict", [v for v in VERDICTS if v != "holds"])
def test_non_holds_verdicts_need_a_reason(verdict):
    c = Claims()
    best = ("each side at its best rate", 0.9)
    with pytest.raises(ValueError, match="why"):
        c.add("x", source="s", measured=1, expected=1, verdict=verdict, favourable=best)
    c.add(
        "x",
        source="s",
        measured=1,
        expected=1,
        verdict=verdict,
        why="too few epochs",
        favourable=best,
    )
    assert c.rows[0]["why"] == "too few epochs"


@pytest.mark.parametrize("verdict", [v for v in VERDICTS if v != "holds"])
def test_non_holds_verdicts_need_the_most_favourable_setting(verdict):
    """A verdict against the lecture is refused unless it was also measured where the
    lecture's statement had its best chance."""
    c = Claims()
    with pytest.raises(ValueError, match="most favourable"):
        c.add("x", source="s", measured=1, expected=1, verdict=verdict, why="too few epochs")
    assert c.rows == []
    c.add(
        "x",
        source="s",
        measured=1,
        expected=1,
        verdict=verdict,
        why="too few epochs",
        favourable=("the whole run, 3 seeds", 0.93),
    )
    assert c.rows[0]["favourable"] == ("the whole run, 3 seeds", 0.93)
    assert "the whole run, 3 seeds: 0.93" in c.to_html()
    assert c.records()[0]["favourable"] == "the whole run, 3 seeds: 0.93"


@pytest.mark.parametrize("favourable", [("", 1.0), ("setting",), "setting", ("s", None), (1, 2)])
def test_a_malformed_favourable_setting_is_refused(favourable):
    with pytest.raises(ValueError, match="favourable must be"):
        Claims().add(
            "x",
            source="s",
            measured=1,
            expected=1,
            verdict="holds partly",
            why="w",
            favourable=favourable,
        )


def test_a_holds_verdict_may_show_its_favourable_setting_too():
    c = Claims()
    c.add("x", source="s", measured=1, expected=1, verdict="holds", favourable=("best lr", "1e-2"))
    assert c.records()[0]["favourable"] == "best lr: 1e-2"


def test_identities_always_hold_and_are_marked():
    c = Claims()
    with pytest.raises(ValueError, match="identity either holds"):
        c.add(
            "x",
            source="s",
            measured=1,
            expected=1,
            verdict="holds partly",
            why="w",
            favourable=("s", 1),
            kind="identity",
        )
    with pytest.raises(ValueError, match="kind must be 'empirical' or 'identity', got 'closed"):
        c.add("x", source="s", measured=1, expected=1, verdict="holds", kind="closed form")
    c.add(
        "closed form",
        source="s",
        measured=1e-16,
        expected=(0, 1e-12),
        verdict="holds",
        kind="identity",
    )
    assert "closed form (identity)" in c.to_html()
    assert c.records()[0]["kind"] == "identity"


def test_verdicts_are_the_three_documented_ones():
    assert VERDICTS == ("holds", "holds partly", "does not hold at this scale")


@pytest.mark.parametrize("expected", [(1,), (1, 2, 3), (3, 1), ()])
def test_add_rejects_malformed_ranges(expected):
    c = Claims()
    with pytest.raises(ValueError, match="range"):
        c.add("x", source="s", measured=2, expected=expected, verdict="holds")
    assert c.rows == []


def test_add_accepts_a_degenerate_range():
    c = claims_with(("x", 2, (2, 2)))
    assert c.failures() == []


@pytest.mark.parametrize("expected", [[0, 2], "41", None])
def test_add_rejects_expected_values_of_other_types(expected):
    with pytest.raises(ValueError, match="expected"):
        Claims().add("x", source="s", measured=1, expected=expected, verdict="holds")


# --------------------------------------------------------------------------------------
# passes()
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "measured, expected, ok",
    [
        (41, 41, True),
        (41.0, 41, True),
        (np.int64(41), 41, True),
        (40, 41, False),
        (42, 41, False),
        (1.0 + 5e-10, 1.0, True),  # within 1e-9 relative
        (1.0 + 5e-9, 1.0, False),
        (1e6 * (1 + 5e-10), 1e6, True),
        (1e6 + 0.01, 1e6, False),
        (5e-10, 0.0, True),  # absolute 1e-9 near zero
        (5e-9, 0.0, False),
        (float("nan"), 1.0, False),
    ],
)
def test_passes_for_numbers(measured, expected, ok):
    assert bool(Claims.passes(measured, expected)) is ok


@pytest.mark.parametrize(
    "measured, ok",
    [
        (0.9, True),
        (0.95, True),
        (1.0, True),
        (0.8999, False),
        (1.0001, False),
        (np.float32(0.95), True),
        (float("nan"), False),
    ],
)
def test_passes_for_inclusive_ranges(measured, ok):
    assert bool(Claims.passes(measured, (0.9, 1.0))) is ok


@pytest.mark.parametrize(
    "measured, expected, ok",
    [
        (True, True, True),
        (False, False, True),
        (True, False, False),
        (False, True, False),
        (np.bool_(True), True, True),
        (np.bool_(False), True, False),
        (np.array([1, 2]).sum() == 3, True, True),
        (1, True, False),  # a number is not a bool
        (1.0, True, False),
        (0, False, False),
        ("True", True, False),
    ],
)
def test_passes_for_booleans(measured, expected, ok):
    assert bool(Claims.passes(measured, expected)) is ok


def test_failures_lists_the_failing_rows():
    c = claims_with(
        ("good", 1, 1), ("bad number", 2, 1), ("bad range", 5, (0, 1)), ("bad bool", 1, True)
    )
    assert [r["claim"] for r in c.failures()] == ["bad number", "bad range", "bad bool"]


# --------------------------------------------------------------------------------------
# show() and to_html()
# --------------------------------------------------------------------------------------


def test_show_passes_when_every_claim_holds(capsys):
    c = claims_with(("count", 41, 41), ("accuracy", 0.97, (0.95, 1.0)), ("flag", True, True))
    assert c.show() is None


def test_show_raises_naming_the_failing_claim(capsys):
    c = claims_with(("count is right", 41, 41), ("accuracy above 95%", 0.93, (0.95, 1.0)))
    with pytest.raises(AssertionError) as info:
        c.show()
    message = str(info.value)
    assert "accuracy above 95%" in message
    assert "0.93" in message
    assert "count is right" not in message


def test_show_without_claims_raises():
    with pytest.raises(ValueError, match="no claims"):
        Claims().show()


def test_to_html_escapes_and_marks():
    c = Claims()
    c.add(
        "<b>bold</b> & <script>alert(1)</script>",
        source="Paper <2015>",
        measured=0.5,
        expected=(0.4, 0.6),
        verdict="holds",
    )
    c.add(
        "second",
        source="notes",
        measured=3,
        expected=4,
        verdict="holds partly",
        why="x < y",
        favourable=("at <best>", 3),
    )
    page = c.to_html()
    assert "<script>" not in page and "<b>bold" not in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;" in page
    assert "Paper &lt;2015&gt;" in page
    assert "holds partly: x &lt; y" in page
    assert "at &lt;best&gt;: 3" in page
    assert page.count("<tr>") == 3  # header and two rows
    assert page.count("✓") == 1 and page.count("✗") == 1
    first, second = page.split("<tr>")[2:]
    assert "✓" in first and "✗" in second
    assert "0.4 to 0.6" in first
    assert c._repr_html_() == page


def test_chapter_mentions_in_a_row_link_to_that_chapter_s_page():
    c = Claims("02_preprocessing")
    c.add(
        "Centring helps (single-sign gradients, chapter 1; Chapter 2 here; chapter 12)",
        source="notes <x>",
        measured=1,
        expected=1,
        verdict="holds",
    )
    row = c.to_html().split("<tbody>")[1]
    assert '<a href="01_activations.html">chapter 1</a>' in row
    assert "Chapter 2 here" in row and 'href="02_preprocessing.html"' not in row  # its own
    assert "chapter 12)" in row  # no such chapter: text
    assert "notes &lt;x&gt;" in row  # still escaped


def test_chapter_links_escape_first_and_link_only_the_chapters_given():
    from nntrain.claims import chapter_links

    assert (
        chapter_links("chapter 3 <b>", ["03_init"])
        == '<a href="03_init.html">chapter 3</a> &lt;b&gt;'
    )
    assert chapter_links("chapter 3", []) == "chapter 3"
    assert chapter_links("subchapter 3", ["03_init"]) == "subchapter 3"


def test_to_html_formats_numbers():
    c = claims_with(("n", 1234567, 1234567), ("x", 0.123456, (0.1, 0.2)), ("b", True, True))
    page = c.to_html()
    assert "1,234,567" in page
    assert "0.123" in page and "0.123456" not in page
    assert "True ✓" in page


def test_numpy_bool_expected_is_a_bool_expectation():
    assert Claims.passes(True, np.bool_(True)) is True
    assert Claims.passes(1, np.bool_(True)) is False


# --------------------------------------------------------------------------------------
# flips_at: a range that could pass either way is refused
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expected, flips_at, measured",
    [((1.5, 1000.0), 1.0, 2.0), ((0.0, 0.5), 0.7, 0.3), (True, False, True), (2.0, 1.0, 2.0)],
)
def test_a_range_that_excludes_the_flip_is_accepted(expected, flips_at, measured):
    c = Claims()
    c.add("x", source="s", measured=measured, expected=expected, verdict="holds", flips_at=flips_at)
    assert c.rows[0]["flips_at"] == flips_at and not c.failures()


@pytest.mark.parametrize("expected, flips_at", [((0.5, 2.0), 1.0), ((0.0, 10.0), 0.0), (1.0, 1.0)])
def test_a_range_containing_the_flip_is_refused(expected, flips_at):
    with pytest.raises(ValueError, match="contains .* where the verdict flips"):
        Claims().add(
            "ReLU trains faster",
            source="s",
            measured=1.2,
            expected=expected,
            verdict="holds",
            flips_at=flips_at,
        )


# --------------------------------------------------------------------------------------
# the ledger
# --------------------------------------------------------------------------------------


def chapter_claims(name):
    c = Claims(name)
    c.add("a holds", source="notes", measured=3.0, expected=(2.0, 4.0), verdict="holds")
    c.add(
        "b does not",
        source="paper",
        measured=0.9,
        expected=(0.5, 1.2),
        verdict="does not hold at this scale",
        why="too small a net",
        favourable=("each at its best rate", 0.95),
    )
    c.add(
        "c identity",
        source="code",
        measured=0.0,
        expected=(0.0, 1e-12),
        verdict="holds",
        kind="identity",
    )
    return c


def test_rows_are_anchored_on_the_chapter_page_and_written_for_the_ledger(tmp_path, monkeypatch):
    c = chapter_claims("01_activations")
    assert 'id="claim-01_activations-2"' in c.to_html()
    assert 'id="claim' not in claims_with(("x", 1, 1)).to_html()  # no chapter, no anchor
    monkeypatch.setenv(LEDGER_DIR, str(tmp_path))
    c.show()
    rows = Ledger.from_directory(tmp_path, ["01_activations"]).rows
    assert [r["anchor"] for r in rows] == [f"claim-01_activations-{i}" for i in (1, 2, 3)]
    assert rows[1]["asserted"] == "0.5 to 1.2" and rows[1]["why"] == "too small a net"
    assert all(r["passed"] for r in rows)


def test_a_continuation_row_enters_the_ledger_with_the_claim_it_continues():
    c = Claims("02_preprocessing")
    c.add(
        "Centring makes gradients mixed-sign", source="s", measured=1, expected=1, verdict="holds"
    )
    c.add(
        "... and so centring speeds up training",
        source="s",
        measured=1,
        expected=1,
        verdict="holds",
    )
    c.add("…and more at small rates", source="s", measured=1, expected=1, verdict="holds")
    c.add("Whitening is costly", source="s", measured=1, expected=1, verdict="holds")
    claims = [r["claim"] for r in c.records()]
    assert claims == [
        "Centring makes gradients mixed-sign",
        "Centring makes gradients mixed-sign ... and so centring speeds up training",
        "Centring makes gradients mixed-sign …and more at small rates",
        "Whitening is costly",
    ]
    assert c.rows[1]["claim"] == "... and so centring speeds up training"  # the chapter's own


def test_the_ledger_counts_verdicts_links_rows_and_needs_every_chapter(tmp_path):
    for name in ("00_network", "03_initialization"):
        chapter_claims(name).write(tmp_path)
    ledger = Ledger.from_directory(tmp_path, ["00_network", "03_initialization"])
    assert ledger.counts() == {"holds": 4, "holds partly": 0, "does not hold at this scale": 2}
    assert ledger.counts("empirical") == {
        "holds": 2,
        "holds partly": 0,
        "does not hold at this scale": 2,
    }
    assert ledger.counts("identity", "00_network")["holds"] == 1
    assert ledger.counts("empirical", "03_initialization")["holds"] == 1
    with pytest.raises(ValueError, match="kind must be one of"):
        ledger.counts("identities")
    assert [r["chapter"] for r in ledger.by_verdict("does not hold at this scale")] == [
        "00_network",
        "03_initialization",
    ]
    page = ledger.to_html()
    assert "each at its best rate: 0.95" in page and "<td>identity</td>" in page
    assert '<a href="03_initialization.html#claim-03_initialization-2">' in ledger.to_html()
    assert ledger.missing == []
    partial = Ledger.from_directory(tmp_path, ["00_network", "04_batchnorm"])
    assert partial.missing == ["04_batchnorm"]  # the page names it; the book's tests fail
    grouped = ledger.to_html({"00_network": "A network, end to end"})
    assert '<a href="00_network.html">A network, end to end</a>' in grouped
    assert '<a href="03_initialization.html">03_initialization</a>' in grouped
    assert grouped.index("A network, end to end") < grouped.index("03_initialization.html#")
    with pytest.raises(ValueError, match="need its name"):
        Claims().write(tmp_path)


# --------------------------------------------------------------------------------------
# print: the tables as MyST Markdown (make pdf)
# --------------------------------------------------------------------------------------


def markdown_tables(markdown):
    """The paragraphs and tables of ``markdown`` as the book's MyST parser reads it: a list
    of strings (paragraphs) and lists of rows (tables, each row a list of cell texts)."""
    from docutils import nodes
    from docutils.core import publish_doctree
    from myst_parser.parsers.docutils_ import Parser

    settings = {"report_level": 2, "halt_level": 2}  # a warning fails the test
    doc = publish_doctree(markdown, parser=Parser(), settings_overrides=settings)
    parts = []
    for child in doc.children:
        if isinstance(child, nodes.table):
            assert "longtable" in child["classes"]
            parts.append([[e.astext() for e in row.children] for row in child.findall(nodes.row)])
        else:
            parts.append(child.astext())
    return parts


def test_claims_print_as_a_table_with_a_header_escaped_and_marked():
    c = chapter_claims("05_regularization")
    c.add(
        "*not* emphasised, $x$ not math, | no column, <b>",
        source="[a link](x)",
        measured=5,
        expected=4,
        verdict="holds partly",
        why="x < y",
        favourable=("at <best>", 3),
    )
    (table,) = markdown_tables(c.to_markdown())
    assert table[0] == ["Claim", "Source", "Measured", "Asserted", "Verdict", "Most favourable"]
    assert table[2] == [
        "b does not",
        "paper",
        "0.9 ✓",
        "0.5 to 1.2",
        "does not hold at this scale: too small a net",
        "each at its best rate: 0.95",
    ]
    assert table[3][0] == "c identity (identity)" and table[1][5] == ""
    assert table[4] == [
        "*not* emphasised, $x$ not math, | no column, <b>",
        "[a link](x)",
        "5 ✗ FAILED",
        "4",
        "holds partly: x < y",
        "at <best>: 3",
    ]
    assert c._repr_markdown_() == c.to_markdown()


def test_show_displays_the_html_table_and_its_print_form(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    c = chapter_claims("00_network")
    c.show()
    assert shown == [c]  # IPython's formatters then take _repr_html_ and _repr_markdown_
    assert repr(c) == "<Claims 00_network: 3 rows>"


def test_the_ledger_prints_a_table_per_chapter_under_its_title(tmp_path):
    for name in ("00_network", "03_initialization"):
        chapter_claims(name).write(tmp_path)
    ledger = Ledger.from_directory(tmp_path, ["00_network", "03_initialization"])
    parts = markdown_tables(ledger.to_markdown({"00_network": "A network, end to end"}))
    assert [p if isinstance(p, str) else len(p) for p in parts] == [
        "A network, end to end",
        4,
        "03_initialization",
        4,
    ]
    assert parts[1][0][4] == "Verdict"
    assert parts[3][2][2:5] == [
        "0.9 ✓",
        "0.5 to 1.2",
        "does not hold at this scale: too small a net",
    ]
    assert parts[3][3][0] == "c identity (identity)"
    assert ledger._repr_markdown_() == ledger.to_markdown()
