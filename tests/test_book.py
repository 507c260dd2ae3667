"""The book as readers get it: `make book` builds it with warnings as errors, and the built
pages hold what they should (chapters, API reference, bibliography, Colab buttons, static
sliders that work with no kernel, in a real browser)."""

import functools
import http.server
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def built():
    """Run the README's `make book` once for this module; fail with the build's own log."""
    result = subprocess.run(["make", "book"], cwd=ROOT, capture_output=True, text=True)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"make book failed:\n{log[-6000:]}"
    assert "build succeeded" in log
    return log


def page(name):
    return (HTML / name).read_text(encoding="utf-8")


def test_build_prints_index_and_has_no_warnings(built):
    assert f"file://{ROOT}/_build/html/index.html" in built
    assert ": WARNING:" not in built and ": ERROR:" not in built, "the build reported a warning"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_page_is_executed_with_claims(built, chapter):
    text = page(f"book/{chapter}.html")
    assert 'class="nntrain-claims"' in text, "the Claims checked table is missing"
    assert "✗" not in text, "a claim failed"
    assert "Traceback" not in text


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_colab_button_points_at_the_chapter(built, chapter):
    repo = CONFIG["repository"]["url"].removeprefix("https://github.com/")
    branch = CONFIG["repository"].get("branch", "main")
    target = f"https://colab.research.google.com/github/{repo}/blob/{branch}/book/{chapter}.ipynb"
    assert target in page(f"book/{chapter}.html")


def test_static_sliders_are_self_contained(built):
    text = page("book/00_network.html")
    sliders = re.findall(r'<input type="range"[^>]*>', text)
    assert len(sliders) == 2, "chapter 0 has one figure with two sliders"
    assert "application/vnd.jupyter.widget-view+json" not in text
    assert not re.search(r'<script[^>]+src="https?://[^"]*(jupyter-widgets|require)', text)
    frames = re.findall(r"iVBORw0KGgo", text)  # base64 of the PNG signature
    assert len(frames) >= 28


def test_api_reference_and_bibliography(built):
    api = page("book/api.html")
    for name in ("affine_forward", "FullyConnectedNet", "AffineFunction", "slider_figure",
                 "load_cifar10", "check_layer", "Claims", "eval_numerical_gradient"):
        assert name in api, f"{name} is missing from the API page"
    bib = page("book/bibliography.html")
    for author in ("Krizhevsky", "Maas", "Clevert", "Goodfellow", "Glorot", "Ioffe",
                   "Bergstra", "Srivastava", "LeCun"):
        assert author in bib


def chromium():
    """Paths of Debian's chromium and chromedriver, or a skip (a failure under CI)."""
    paths = shutil.which("chromium"), shutil.which("chromedriver")
    if None in paths:
        message = "headless Chromium is not installed (Debian packages chromium, chromium-driver)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI requires the browser tests")
        pytest.skip(message + ": browser tests skipped")
    return paths


@pytest.fixture(scope="module")
def server(built):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(HTML))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser(server):
    binary, driver_path = chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--window-size=1200,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


@pytest.mark.browser
def test_static_slider_moves_in_a_browser(browser, server):
    """Moving a slider on the built page, with no kernel, changes the figure and the label."""
    browser.get(f"{server}/book/00_network.html")
    slider = browser.find_element("css selector", 'input[type="range"]')
    container = slider.find_element("xpath", "./ancestor::div[contains(@id, 'nntrain-slider')][1]")
    image = container.find_element("css selector", "img")
    before, label_before = image.get_attribute("src"), container.text
    browser.execute_script(
        "arguments[0].value = arguments[0].max;"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));", slider)
    assert image.get_attribute("src") != before, "the figure did not change"
    assert container.text != label_before, "the value label did not change"
    assert browser.execute_script("return arguments[0].naturalWidth", image) > 0
