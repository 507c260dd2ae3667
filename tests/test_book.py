"""The book as readers get it: `make book` builds it with warnings as errors, and the built
pages hold what they should (chapters, API reference, bibliography, Colab buttons, static
sliders that work with no kernel), load nothing from the network, and link only to files
that exist. These checks read the built files; test_browser.py opens the pages in Chromium.

The build runs once per session (the `built` fixture in conftest.py); `page` and `chapter`
arguments run through every page and every chapter (see conftest.py).
"""

import json
import posixpath
import re
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
#: The most a chapter page may weigh, its precomputed slider frames included.
MAX_PAGE_BYTES = 5_000_000
#: The offline MathJax every page with math loads (book/_ext/offline_math.py).
MATHJAX = "_static/mathjax/startup.js"


def page(name):
    return (HTML / name).read_text(encoding="utf-8")


@cache
def soup(name):
    return BeautifulSoup(page(name), "html.parser")


def test_build_prints_index_and_has_no_warnings(built):
    assert f"file://{ROOT}/_build/html/index.html" in built
    assert ": WARNING:" not in built and ": ERROR:" not in built, "the build reported a warning"


def test_every_built_page_is_checked(built_pages, book_pages):
    """The `page` tests cover exactly the pages the build wrote."""
    assert set(built_pages) == set(book_pages)


def test_chapter_page_is_executed_with_claims(built, chapter):
    text = page(f"book/{chapter}.html")
    assert 'class="nntrain-claims"' in text, "the Claims checked table is missing"
    assert "✗" not in text, "a claim failed"
    assert "Traceback" not in text


def test_solutions_are_folded_and_model_answers_are_not_on_the_page(built, chapter):
    """A reader can try an exercise first: each solution folds behind "Show solution";
    the model answers of the think exercises are for teachers (the course folder)."""
    text = page(f"book/{chapter}.html")
    notebook = json.loads((ROOT / "book" / f"{chapter}.ipynb").read_text())
    answers = sum("### BEGIN SOLUTION" in "".join(c["source"]) for c in notebook["cells"])
    assert text.count("Show solution") >= answers >= 3
    assert "Model answer" not in text and "Rubric" not in text


def test_claims_ledger_gathers_every_chapter_s_rows(built):
    """The ledger page holds one row per Claims checked row of every chapter, each linking
    to its row, and counts the verdicts."""
    ledger = page("book/claims.html")
    per_chapter = {}
    for chapter in sorted(p.stem for p in (ROOT / "book").glob("[0-9][0-9]_*.ipynb")):
        table = page(f"book/{chapter}.html").split('class="nntrain-claims"')[1]
        per_chapter[chapter] = table.split("</table>")[0].count(f'<tr id="claim-{chapter}-')
    assert all(per_chapter.values()), per_chapter
    rows = re.findall(r'<tr><td><a href="[0-9]{2}_\w+\.html#claim-', ledger)
    assert len(rows) == sum(per_chapter.values())
    for chapter, n in per_chapter.items():
        assert f'href="{chapter}.html#claim-{chapter}-{n}"' in ledger
    assert 'class="nntrain-ledger-counts"' in ledger
    assert "<b>Missing from this ledger:</b>" not in ledger
    assert ledger.count('<table class="nntrain-ledger-counts">') == 2  # empirical, identities


def test_chapter_shows_every_figure_it_draws(built, chapter):
    """Each `plt.show()` of the chapter leaves a figure on the page, as an image file of the
    build (the static slider figures, inline frames, are checked on their own)."""
    notebook = json.loads((ROOT / "book" / f"{chapter}.ipynb").read_text())
    shown = sum(
        "".join(c["source"]).count("plt.show()")
        for c in notebook["cells"]
        if c["cell_type"] == "code"
        and not {"remove-cell", "remove-output"} & set(c.get("metadata", {}).get("tags", []))
    )
    figures = [
        img
        for img in soup(f"book/{chapter}.html").select(".cell_output img")
        if not img.find_parent(class_="nntrain-slider-figure")
    ]
    assert len(figures) >= shown, f"{shown} figures drawn, {len(figures)} on the page"
    assert all(not img["src"].startswith("data:") for img in figures)


def test_colab_button_points_at_the_chapter(built, chapter):
    """The launch button opens this chapter's notebook from the repository in _config.yml."""
    repo = CONFIG["repository"]["url"].removeprefix("https://github.com/")
    branch = CONFIG["repository"].get("branch", "main")
    path = f"book/{chapter}.ipynb"
    assert (ROOT / path).exists()
    target = f"https://colab.research.google.com/github/{repo}/blob/{branch}/{path}"
    links = {
        a["href"]
        for a in soup(f"book/{chapter}.html").select("a[href]")
        if "colab.research.google.com" in a["href"]
    }
    assert links == {target}


def test_chapter_page_stays_under_5_mb(built, chapter, book_report):
    size = (HTML / "book" / f"{chapter}.html").stat().st_size
    book_report["sizes"].setdefault(f"book/{chapter}.html", {})["html_bytes"] = size
    assert size < MAX_PAGE_BYTES, f"{chapter}.html weighs {size:,} bytes with its frames"


def test_static_sliders_are_self_contained(built):
    text = page("book/00_network.html")
    sliders = re.findall(r'<input type="range"[^>]*>', text)
    assert len(sliders) == 2, "chapter 0 has one figure with two sliders"
    assert "application/vnd.jupyter.widget-view+json" not in text
    assert not re.search(r'<script[^>]+src="https?://[^"]*(jupyter-widgets|require)', text)
    # the frames are image files of the build (book/_ext/light_pages.py), none inline
    assert "iVBORw0KGgo" not in text  # base64 of the PNG signature
    (data,) = re.findall(r'<script type="application/json" id="[^"]+-data">(.*?)</script>', text)
    frames = json.loads(data)["frames"]
    assert len(frames) >= 28
    for address in frames.values():
        assert (HTML / "book" / address).resolve().read_bytes()[:4] == b"\x89PNG", address


def test_api_reference_and_bibliography(built):
    api = page("book/api.html")
    for name in (
        "affine_forward",
        "FullyConnectedNet",
        "AffineFunction",
        "slider_figure",
        "load_cifar10",
        "check_layer",
        "Claims",
        "eval_numerical_gradient",
    ):
        assert name in api, f"{name} is missing from the API page"
    bib = page("book/bibliography.html")
    for author in (
        "Krizhevsky",
        "Maas",
        "Clevert",
        "Goodfellow",
        "Glorot",
        "Ioffe",
        "Bergstra",
        "Srivastava",
        "LeCun",
    ):
        assert author in bib


# What a page loads by itself (links a reader follows, <a href>, may leave the site).
LOADED = {
    "script": "src",
    "img": "src",
    "iframe": "src",
    "source": "src",
    "audio": "src",
    "video": "src",
    "embed": "src",
    "object": "data",
    "link": "href",
}


def is_remote(url):
    return url.startswith("//") or urlsplit(url).scheme in ("http", "https", "ftp", "ws", "wss")


def test_page_loads_nothing_from_the_network(built, page):
    """No element fetches from another host; math comes from the bundled MathJax."""
    remote = [
        f"<{tag.name} {attr}={tag[attr]}>"
        for name, attr in LOADED.items()
        for tag in soup(page).find_all(name, attrs={attr: True})
        if is_remote(tag[attr])
        and not (
            name == "link"
            and tag.get("rel") in (["canonical"], ["next"], ["prev"], ["index"], ["search"])
        )
    ]
    assert not remote, f"{page} loads from the network: {remote}"
    has_math = soup(page).select(".math")
    scripts = [s["src"] for s in soup(page).find_all("script", src=True)]
    mathjax = [
        posixpath.normpath(posixpath.join(posixpath.dirname(page), urlsplit(s).path))
        for s in scripts
        if "mathjax" in s.lower()
    ]
    if has_math:
        assert mathjax == [MATHJAX], "a page with math loads the bundled MathJax, once"
        assert (HTML / MATHJAX).is_file(), "the bundled MathJax was not copied into the build"
        assert (
            HTML / "_static/mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff"
        ).is_file()


@cache
def anchors(name):
    """The ids (and old-style names) a page can be linked to with #fragment."""
    found = soup(name).find_all(attrs={"id": True}) + soup(name).find_all("a", attrs={"name": True})
    return {t.get("id") or t.get("name") for t in found}


def test_internal_links_and_images_resolve(built, page):
    """Every relative href/src of the page names a file of the build, and every #anchor
    into a page of the build exists there."""
    problems = []
    here = posixpath.dirname(page)
    for name, attr in [*LOADED.items(), ("a", "href"), ("area", "href")]:
        for tag in soup(page).find_all(name, attrs={attr: True}):
            url = tag[attr].strip()
            parts = urlsplit(url)
            if not url or parts.scheme or url.startswith("//"):
                continue  # external (checked above for what loads) or mailto:, data:, ...
            path = unquote(parts.path)
            target = posixpath.normpath(posixpath.join(here, path)) if path else page
            if target.startswith("..") or not (HTML / target).exists():
                problems.append(f"<{name} {attr}={url}>: {target} does not exist")
                continue
            if (HTML / target).is_dir():
                target = posixpath.join(target, "index.html")
            fragment = unquote(parts.fragment)
            if fragment and target.endswith(".html") and fragment not in anchors(target):
                problems.append(f"<{name} {attr}={url}>: no #{fragment} in {target}")
    assert not problems, f"{page}:\n" + "\n".join(problems)


def test_intro_gives_the_budget_and_the_times_measured_by_this_build(built):
    """The front page promises no time in seconds: it states the budget in calibration
    units and shows each chapter's execution time as measured while the page was built."""
    intro = soup("book/intro.html")
    text = intro.get_text(" ")
    assert "under a minute" not in text
    assert "15 units" in text and "120" in text and "calibration" in text
    table = next(t for t in intro.find_all("table") if "Run Time (s)" in t.get_text())
    rows = {a["href"]: tr for tr in table.find_all("tr") for a in tr.find_all("a")}
    for chapter in sorted(p.stem for p in (ROOT / "book").glob("[0-9][0-9]_*.ipynb")):
        (row,) = [tr for href, tr in rows.items() if f"{chapter}.html" in href]
        seconds = float(row.find_all("td")[3].get_text())
        assert seconds > 0 and "✅" in row.get_text()


# ------------------------------------------------------------------------- figures (issue 34)

#: The widest a chapter's figure may be, in pixels: drawn at most 7.2 inches wide at 100 dpi,
#: plus the 0.1 inch the inline backend pads each side with (bbox_inches="tight"), so that
#: the 688 px text column shows it at 93% or more and its text at about the size drawn (R.3).
MAX_FIGURE_PX = 740
#: An alt text that is a file's name or address, or a hash, not words (R.1).
FILE_LIKE = re.compile(r"^\.\./|_images/|\.(png|svg|jpe?g|gif)$|[0-9a-f]{16}", re.I)
#: The fewest words an alt text or a caption may have.
MIN_WORDS = 4
#: "chapter 3", "Chapters 0": a mention of another chapter, to be a link (R.8).
CHAPTER_MENTION = re.compile(r"\b[Cc]hapters?\s+(\d+)\b")


def figure_images(chapter):
    """The images of a chapter's figures: every image of a cell's output, a static slider's
    image included."""
    return soup(f"book/{chapter}.html").select(".cell_output img")


def png_width(path):
    data = Path(path).read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(data[16:20], "big")


def test_every_figure_has_alt_text_in_words(built, chapter):
    """A screen reader hears what a figure shows: no image of a chapter has a file name, an
    address or a hash for alt text, and each says it in several words."""
    bad = [
        img.get("alt", "")
        for img in figure_images(chapter)
        if FILE_LIKE.search(img.get("alt", "")) or len(img.get("alt", "").split()) < MIN_WORDS
    ]
    assert not bad, f"{chapter}: images without meaningful alt text: {bad}"


def test_every_figure_is_numbered_and_captioned(built, chapter):
    """Each figure of a chapter (an image or a slider) sits in a <figure> named
    fig-NN-... with a caption numbered "Figure N.k", N the chapter's number, k counting
    from 1 in page order, and a caption of several words."""
    number = int(chapter[:2])
    problems, numbers = [], []
    for img in figure_images(chapter):
        figure = img.find_parent("figure")
        what = (img.get("alt") or img.get("src", ""))[:60]
        caption = figure.find("figcaption") if figure else None
        if caption is None:
            problems.append(f"not in a captioned figure: {what}")
            continue
        label = caption.select_one(".caption-number")
        text = caption.select_one(".caption-text")
        found = re.fullmatch(r"Figure (\d+)\.(\d+)", label.get_text(strip=True) if label else "")
        if not found or int(found[1]) != number:
            problems.append(f"numbered {label.get_text(strip=True) if label else None}: {what}")
        else:
            numbers.append(int(found[2]))
        if not text or len(text.get_text().split()) < MIN_WORDS:
            problems.append(f"caption of fewer than {MIN_WORDS} words: {what}")
        if not figure.get("id", "").startswith(f"fig-{chapter[:2]}-"):
            problems.append(f"named {figure.get('id')!r}, not fig-{chapter[:2]}-...: {what}")
    assert not problems, f"{chapter}:\n" + "\n".join(problems)
    assert numbers == list(range(1, len(numbers) + 1)), f"{chapter}: numbered {numbers}"


def test_figure_names_are_unique(built):
    """A figure's name is its address in the book (book/03_initialization.html#fig-03-...)
    and what {numref} cites: no two figures share one."""
    names = [
        figure["id"]
        for chapter in sorted(p.stem for p in (ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
        for figure in soup(f"book/{chapter}.html").select("figure[id]")
    ]
    assert names, "no figure is named"
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})


def test_figures_are_drawn_no_wider_than_the_column(built, chapter):
    """Every figure image and every slider frame is at most MAX_FIGURE_PX wide, so the page
    does not shrink it (and its text) to fit the column."""
    wide = []
    for img in figure_images(chapter):
        src = img.get("src", "")
        if not img.find_parent(class_="nntrain-slider-figure"):  # its frames: below
            width = png_width(HTML / "book" / unquote(src))
            if width > MAX_FIGURE_PX:
                wide.append(f"{width} px: {(img.get('alt') or src)[:60]}")
    for data in soup(f"book/{chapter}.html").select('script[type="application/json"][id$="-data"]'):
        frames = json.loads(data.string)["frames"]
        widths = {png_width(HTML / "book" / unquote(a)) for a in frames.values()}
        if max(widths) > MAX_FIGURE_PX:
            wide.append(f"{max(widths)} px: the frames of slider {data['id'][:-5]}")
    assert not wide, f"{chapter}: figures wider than {MAX_FIGURE_PX} px:\n" + "\n".join(wide)


def test_chapter_mentions_link_to_the_chapter(built, chapter):
    """Every "chapter N" in a chapter's prose (not in code or a cell's output) that names
    another chapter is a link."""
    own = int(chapter[:2])
    article = soup(f"book/{chapter}.html").select_one("article")
    unlinked = []
    for text in article.find_all(string=CHAPTER_MENTION):
        if text.find_parent(["code", "pre", "script", "style", "a"]) or text.find_parent(
            class_=["cell_output", "cell_input"]
        ):
            continue
        for match in CHAPTER_MENTION.finditer(text):
            if int(match[1]) != own:
                unlinked.append(
                    " ".join(text[max(0, match.start() - 40) : match.end() + 20].split())
                )
    assert not unlinked, f"{chapter}: chapter mentions without a link:\n" + "\n".join(unlinked)


def test_no_table_has_an_empty_header_cell(built, page):
    """A header cell names its column for a screen reader (axe's empty-table-header, R.11)."""
    empty = [
        str(th.find_parent("tr"))[:120]
        for th in soup(page).select("article th")
        if not th.get_text(strip=True) and not th.get("aria-label")
    ]
    assert not empty, f"{page}: empty header cells: {empty}"


def test_figure_links_give_the_figure_s_number(built, chapter):
    """A link to a figure written as Jupyter shows it, `[Figure 3.2](#fig-03-histograms)`,
    says the number the figure has in the book (the build numbers figures, the text does
    not: a figure moved or added would leave the link's number behind)."""
    here = f"book/{chapter}.html"
    wrong = []
    for a in soup(here).select("article a[href*='#fig-']"):
        said = re.search(r"Figure\s+(\d+\.\d+)", a.get_text(" "))
        if not said:
            continue
        path, _, name = a["href"].partition("#")
        target = posixpath.normpath(posixpath.join("book", unquote(path))) if path else here
        figure = soup(target).find("figure", id=name)
        number = figure.select_one(".caption-number") if figure else None
        actual = number.get_text(strip=True).removeprefix("Figure ") if number else None
        if actual != said[1]:
            wrong.append(f"{a.get_text(' ', strip=True)!r} -> {a['href']}: Figure {actual}")
    assert not wrong, f"{chapter}:\n" + "\n".join(wrong)


def test_a_chapter_opens_with_its_title(built, chapter):
    """The first thing on a chapter's page is its title: the setup cell (installs and
    imports, folded) comes below it (book/_ext/light_pages.py; R.14)."""
    article = soup(f"book/{chapter}.html").select_one("article")
    first = article.find(lambda tag: tag.name == "h1" or "cell" in (tag.get("class") or []))
    assert first is not None and first.name == "h1", f"{chapter} opens with {first}"[:200]


def test_folded_cells_are_named_by_their_visible_text(built, page):
    """A folded cell's toggle says "Show code cell source"; a screen reader must hear the same
    (MyST-NB's aria-label "Toggle hidden content" is dropped; axe's label-content-name-mismatch)."""
    labelled = soup(page).select('summary[aria-label="Toggle hidden content"]')
    assert not labelled, f"{page}: {len(labelled)} toggles named otherwise than they read"


@cache
def api_objects():
    """The built book's Python objects (objects.inv): full name -> (kind, its address)."""
    from sphinx.util.inventory import InventoryFile

    with (HTML / "objects.inv").open("rb") as f:
        inventory = InventoryFile.load(f, "", posixpath.join)
    return {
        name: (kind.removeprefix("py:"), entry[2])
        for kind, entries in inventory.items()
        if kind.startswith("py:")
        for name, entry in entries.items()
    }


def test_package_names_in_the_prose_link_to_the_api(built, chapter):
    """Every package name a chapter's prose writes as code, and that says which object it is
    (book/_ext/api_links.py's rule), links to its API entry at least once on the page."""
    from conftest import book_extension

    target = book_extension("api_links").target
    objects = api_objects()
    kinds = {name: kind for name, (kind, _) in objects.items()}
    article = soup(f"book/{chapter}.html").select_one("article")
    links = {a["href"] for a in article.select("a[href]")}
    named, unlinked = set(), []
    for code in article.select("p code, li code, dd code, td code, figcaption code"):
        full = target(code.get_text(), kinds)
        if full is None or code.find_parent(class_=["cell_output", "cell_input"]):
            continue
        named.add(full)
        address = posixpath.relpath(objects[full][1], "book")
        if address not in links:
            unlinked.append(f"{code.get_text()!r} -> {full}")
    assert not unlinked, f"{chapter}: names not linked to the API:\n" + "\n".join(unlinked)
    assert named, f"{chapter}: the prose names no object of the package"


def unlinked_sources(name):
    """The Source cells of a page's Claims tables with an author-year pair that is not a link
    to the bibliography (book/_ext/source_links.py links them)."""
    tables = soup(name).select("table.nntrain-claims, table.nntrain-ledger")
    assert tables, f"{name}: no Claims table"
    unlinked = []
    for table in tables:
        column = [th.get_text() for th in table.select("thead th")].index("Source")
        for row in table.select("tbody tr"):
            cells = row.find_all("td")
            if len(cells) <= column:
                continue
            cell = cells[column]
            cited = [a for a in cell.find_all("a") if "bibliography.html#" in a["href"]]
            if len(re.findall(r"\b(?:19|20)\d\d\b", cell.get_text())) != len(cited):
                unlinked.append(cell.get_text())
    return sorted(set(unlinked))


def test_claims_sources_link_to_the_bibliography(built, chapter):
    """Every author-year pair in a Claims row's Source ("Ioffe & Szegedy 2015") links to
    its bibliography entry."""
    unlinked = unlinked_sources(f"book/{chapter}.html")
    assert not unlinked, f"{chapter}: sources not linked:\n" + "\n".join(unlinked)


def test_ledger_sources_link_to_the_bibliography(built):
    unlinked = unlinked_sources("book/claims.html")
    assert not unlinked, "ledger: sources not linked:\n" + "\n".join(unlinked)
