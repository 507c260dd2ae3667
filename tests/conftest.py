"""Fixtures shared by the tests.

**Both trees.** A test that takes an argument named ``tree`` runs twice, once on the NumPy
reference (id ``reference``) and once on the PyTorch twin (id ``torch``); ``tree`` is a
:class:`Tree`: ``tree.affine_forward`` is the tree's own function, ``tree.array(a)`` makes
its kind of array from NumPy values and ``tree.numpy(v)`` reads one back. This is the one
way to run a test on both trees; a test that needs one tree by name imports the aliases
``R`` (``nntrain.reference``) and ``T`` (``nntrain.torch``) from here or writes
``import nntrain.reference as R`` and ``import nntrain.torch as T`` itself.

**The built book.** The built-site tests (test_book.py) and the browser tests
(test_browser.py) share a book built once per test session, served on 127.0.0.1 and opened
in one headless Chromium.

A test that takes an argument named `page` runs once for every page of the built book (a
path relative to _build/html); one that takes `chapter` runs once for every chapter
notebook (its stem, e.g. 00_network). Page sizes and timings the tests measure are printed
at the end of the run.
"""

import functools
import http.server
import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import nntrain.reference as R
import nntrain.torch as T
import numpy as np
import pytest
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
# Pages Sphinx writes besides those in _toc.yml.
GENERATED_PAGES = ["index.html", "genindex.html", "search.html", "py-modindex.html"]

# Set to 1 to reuse an existing _build/html instead of running `make book` (for iterating on
# these tests only; ignored under CI, which always builds).
REUSE_BUILD = os.environ.get("NNTRAIN_TEST_REUSE_BUILD") == "1" and os.environ.get("CI") != "true"

REPORT = pytest.StashKey[dict]()


def book_extension(name):
    """The module book/_ext/``name``.py (a Sphinx extension or script of the book's build),
    imported from its file: the folder is not a package."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "book" / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def toc_files(node):
    """Every `root` and `file` entry of a _toc.yml tree, in order."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("root", "file"):
                yield value
            else:
                yield from toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from toc_files(item)


#: Every page of the built book, relative to _build/html: the table of contents, then the
#: pages Sphinx generates. test_book.py checks that the build wrote no other page.
TOC = list(toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text())))
PAGES = [f"{entry}.html" for entry in TOC] + GENERATED_PAGES
#: The chapters of the book, as listed in _toc.yml (test_notebooks.py checks that every
#: chapter notebook is listed there).
CHAPTERS = [
    entry.removeprefix("book/") for entry in TOC if re.fullmatch(r"book/[0-9][0-9]_\w+", entry)
]


@dataclass(frozen=True)
class Tree:
    """One of the package's two trees, as a test uses it.

    Its attributes are the tree's own (``tree.batchnorm_forward``, ``tree.FullyConnectedNet``);
    ``name`` is ``"reference"`` or ``"torch"`` and ``module`` the package module itself.

    >>> tree = TREES[1]
    >>> tree.name, tree.module is T, tree.affine_forward is T.affine_forward
    ('torch', True, True)
    >>> tree.array([1, 2], np.float32)
    tensor([1., 2.])
    >>> tree.numpy(tree.array([[1.5]])), tree.float_dtype
    (array([[1.5]]), torch.float64)
    """

    name: str
    module: ModuleType

    def __getattr__(self, name):
        return getattr(self.module, name)

    def __repr__(self):
        return self.name

    @property
    def is_reference(self):
        return self.module is R

    @property
    def float_dtype(self):
        """The dtype of a float64 array in this tree (``np.float64`` or ``torch.float64``)."""
        return np.float64 if self.is_reference else torch.float64

    def array(self, values, dtype=np.float64):
        """``values`` (anything ``np.asarray`` takes) as this tree's kind of array: a NumPy
        array for the reference, a tensor for the twin, of the NumPy ``dtype``."""
        a = np.array(values, dtype=dtype)
        return a if self.is_reference else torch.from_numpy(a)

    def other(self, values, dtype=np.float64):
        """``values`` as the other tree's kind (a tensor for the reference, an array for
        the twin): the wrong kind of argument for this tree."""
        a = np.array(values, dtype=dtype)
        return torch.from_numpy(a) if self.is_reference else a

    @staticmethod
    def numpy(value):
        """A NumPy copy of ``value`` (an array or a tensor of either tree)."""
        if isinstance(value, torch.Tensor):
            return value.detach().cpu().numpy().copy()
        return np.array(value)


#: The two trees, in the order every parametrized test runs them.
TREES = (Tree("reference", R), Tree("torch", T))


@pytest.fixture(scope="session", params=TREES, ids=[tree.name for tree in TREES])
def tree(request):
    """Run the test on each tree (see :class:`Tree`). Session-scoped so that Hypothesis
    tests may take it too."""
    return request.param


def pytest_generate_tests(metafunc):
    if "page" in metafunc.fixturenames:
        metafunc.parametrize("page", PAGES)
    if "chapter" in metafunc.fixturenames:
        metafunc.parametrize("chapter", CHAPTERS)


@pytest.fixture(scope="session")
def book_pages():
    """Every page the book should have, as the `page` argument runs through them."""
    return list(PAGES)


@pytest.fixture(scope="session")
def built_pages(built):
    """The HTML pages the build actually wrote (not the theme's assets or page sources)."""
    return sorted(
        p.relative_to(HTML).as_posix()
        for p in HTML.rglob("*.html")
        if p.relative_to(HTML).parts[0] not in ("_static", "_sources", "_images")
    )


@pytest.fixture(scope="session")
def built(request):
    """Run the README's `make book` once per test session; fail with the build's own log."""
    if REUSE_BUILD and (HTML / "index.html").exists():
        return f"The book is at file://{ROOT}/_build/html/index.html\nbuild succeeded (reused)"
    start = time.perf_counter()
    result = subprocess.run(["make", "book"], cwd=ROOT, capture_output=True, text=True)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"make book failed:\n{log[-6000:]}"
    assert "build succeeded" in log
    timings(request.config)["book build (make book)"] = time.perf_counter() - start
    return log


def chromium():
    """Paths of Debian's chromium and chromedriver, or a skip (a failure under CI)."""
    paths = shutil.which("chromium"), shutil.which("chromedriver")
    if None in paths:
        message = "headless Chromium is not installed (Debian packages chromium, chromium-driver)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI requires the browser tests")
        pytest.skip(message + ": browser tests skipped")
    return paths


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def server(built):
    """_build/html over HTTP on 127.0.0.1, on a free port."""
    handler = functools.partial(QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


#: Chromium as in a classroom without internet: no background traffic of its own, so every
#: request the log shows comes from the page.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--window-size=1200,900",
    "--hide-scrollbars",
)


@pytest.fixture(scope="module")
def browser(server, book_report):
    """One headless Chromium (Selenium) for the module, logging the console and every
    network request, with the HTTP cache off so that each page shows all it loads. The time
    from its start to its end is reported as the browser tests' share of the run."""
    start = time.perf_counter()
    binary, driver_path = chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_script_timeout(60)
    driver.set_page_load_timeout(60)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    yield driver
    driver.quit()
    book_report["timings"]["browser tests (Chromium start to quit)"] = time.perf_counter() - start


def pytest_configure(config):
    config.stash[REPORT] = {"sizes": {}, "timings": {}}


def timings(config):
    return config.stash[REPORT]["timings"]


@pytest.fixture(scope="session")
def book_report(request):
    """What the run measured, printed at its end: ``sizes`` ({page: {html_bytes,
    loaded_bytes, requests}}) and ``timings`` ({what: seconds})."""
    return request.config.stash[REPORT]


def pytest_terminal_summary(terminalreporter, config):
    data = config.stash.get(REPORT, {})
    sizes, timings = data.get("sizes"), data.get("timings")
    if not sizes and not timings:
        return
    write = terminalreporter.write_line
    terminalreporter.section("built book: page sizes and timings")
    if sizes:

        def cell(value, width):
            return f"{value:>{width},}" if isinstance(value, int) else f"{'-':>{width}}"

        write(f"{'page':34} {'HTML bytes':>12} {'loaded bytes':>13} {'requests':>9}")
        for page, row in sorted(sizes.items()):
            write(
                f"{page:34} {cell(row.get('html_bytes'), 12)} "
                f"{cell(row.get('loaded_bytes'), 13)} {cell(row.get('requests'), 9)}"
            )
        write(
            "(HTML bytes: the page with its inline frames; loaded bytes: everything the "
            "browser fetched for it with an empty cache, MathJax and theme included)"
        )
    for name, seconds in (timings or {}).items():
        write(f"{name}: {seconds:.1f} s")
    if SCREENSHOTS.exists():
        write(f"screenshots for review: {SCREENSHOTS}")
