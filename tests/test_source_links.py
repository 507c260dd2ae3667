"""A Claims table's sources link to the bibliography (book/_ext/source_links.py): the rule."""

from types import SimpleNamespace

import pytest

from conftest import book_extension

source_links = book_extension("source_links")


@pytest.mark.parametrize(
    "text, found",
    [
        ("Ioffe & Szegedy 2015", [("Ioffe & Szegedy 2015", "Ioffe", "2015")]),
        ("He et al. 2015", [("He et al. 2015", "He", "2015")]),
        ("van Laarhoven 2017", [("van Laarhoven 2017", "Laarhoven", "2017")]),
        (
            "this chapter (Poole et al. 2016)",
            [("Poole et al. 2016", "Poole", "2016")],
        ),
        (
            "d2l §12.1; Dauphin et al. 2014",
            [("Dauphin et al. 2014", "Dauphin", "2014")],
        ),
        (
            "Goodfellow, Vinyals & Saxe 2015; Garipov et al. 2018",
            [
                ("Goodfellow, Vinyals & Saxe 2015", "Goodfellow", "2015"),
                ("Garipov et al. 2018", "Garipov", "2018"),
            ],
        ),
        (
            "Leshno et al. 1993 (Cybenko 1989, Hornik 1991 for bounded units)",
            [
                ("Leshno et al. 1993", "Leshno", "1993"),
                ("Cybenko 1989", "Cybenko", "1989"),
                ("Hornik 1991", "Hornik", "1991"),
            ],
        ),
        ("CS231n notes", []),
        ("UvA DL tutorial 4", []),
        ("this chapter", []),
    ],
)
def test_each_author_year_pair_is_found(text, found):
    spans = source_links.citations(text)
    assert [(text[s:e], name, year) for s, e, name, year in spans] == found


def entry(key):
    return SimpleNamespace(key=key)


CANDIDATES = {
    ("ioffe", "2015"): [entry("ioffe2015batch")],
    ("li", "2018"): [entry("li2018visualizing"), entry("li2018hyperband")],
}


def link(citation, text):
    return f"<a href='#{citation.key}'>{text}</a>"


def test_a_cell_links_what_names_one_entry_and_keeps_its_escaping():
    cell = "Ioffe &amp; Szegedy 2015; CS231n notes &lt;x&gt;"
    assert source_links.link_cell(cell, CANDIDATES, set(), link) == (
        "<a href='#ioffe2015batch'>Ioffe &amp; Szegedy 2015</a>; CS231n notes &lt;x&gt;"
    )


def test_two_entries_of_one_surname_and_year_go_to_the_one_the_chapter_cites():
    cell = "Li et al. 2018"
    assert source_links.link_cell(cell, CANDIDATES, {"li2018hyperband"}, link) == (
        "<a href='#li2018hyperband'>Li et al. 2018</a>"
    )
    assert source_links.link_cell(cell, CANDIDATES, set(), link) == cell  # which one?
    assert source_links.link_cell("Unknown 2001", CANDIDATES, set(), link) == "Unknown 2001"


def test_a_ledger_table_links_each_group_by_its_own_chapter_s_citations():
    table = (
        '<table class="nntrain-ledger"><thead><tr><th>Claim</th><th>Source</th></tr></thead>'
        '<tbody><tr class="nntrain-ledger-chapter"><th colspan="2">'
        '<a href="07_hyperparameters.html">Hyperparameters</a></th></tr>'
        "<tr><td>a</td><td>Li et al. 2018</td></tr>"
        '<tr class="nntrain-ledger-chapter"><th colspan="2">'
        '<a href="08_landscape.html">Landscape</a></th></tr>'
        "<tr><td>b</td><td>Li et al. 2018</td></tr></tbody></table>"
    )
    cited = {
        "book/07_hyperparameters": {"li2018hyperband"},
        "book/08_landscape": {"li2018visualizing"},
    }
    out = source_links.link_table(table, "book/claims", CANDIDATES, cited, link)
    assert out.count("<a href='#li2018hyperband'>") == 1
    assert out.count("<a href='#li2018visualizing'>") == 1
    assert out.index("li2018hyperband") < out.index("li2018visualizing")
