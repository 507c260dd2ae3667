"""Page weight of the built book: what a first visit loads, the DOM it builds, Lighthouse.

    .venv/bin/python -m benchmarks.pages                     # the audited pages of _build/html
    .venv/bin/python -m benchmarks.pages --all               # every page
    .venv/bin/python -m benchmarks.pages --html DIR PAGE...  # other pages of another build
    .venv/bin/python -m benchmarks pages                     # as a part of ``make bench``

Each page is served from 127.0.0.1 (no compression, as a reader opening the files from disk
gets none) and opened in headless Chromium (Debian's, driven by Selenium) with an empty cache
and a 1200 x 900 window. Measured per page:

- **bytes**: the page plus every file of the build it fetched until it settled (MathJax has
  typeset, the fonts and the images on screen are in, and no request for half a second),
  each file counted once, by its size on disk. Images loaded lazily count only if the first
  screen shows them, as in a first visit.
- **requests** to the local server, and **DOM elements** after MathJax has typeset.
- **Lighthouse performance** (its default mobile profile: simulated slow 4G and a 4x slower
  CPU), when the ``lighthouse`` command (npm package ``lighthouse``; or the path in
  ``$LIGHTHOUSE``) is installed; a record says so when it is not. Its timings depend on the
  machine's load: compare them only within one run.

The byte target of each audited page is half its weight before issue 34 (``BEFORE``).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"

#: The pages the reader-experience review audited with Lighthouse.
AUDITED = (
    "book/00_network.html",
    "book/03_initialization.html",
    "book/08_landscape.html",
    "book/claims.html",
)
#: Bytes a first visit loaded before issue 34 (this script, on the build of commit 1704693).
BEFORE = {
    "book/00_network.html": 6_137_638,
    "book/03_initialization.html": 4_943_376,
    "book/08_landscape.html": 6_272_410,
    "book/claims.html": 2_850_352,
}

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
    "--hide-scrollbars",
)

# Resolves when MathJax (if the page loads it) has typeset, the fonts are in and every
# image the browser started to load has loaded or failed.
SETTLED = """
const done = arguments[arguments.length - 1], start = Date.now();
function images() {
  return Promise.all([...document.images].filter(img => img.loading !== "lazy" || img.complete)
    .map(img => img.decode().catch(() => null)));
}
(function wait() {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) {
    mj.startup.promise.then(() => document.fonts.ready).then(images).then(() => done(true));
  } else if (document.readyState === "complete"
             && !document.querySelector('script[src*="mathjax"]')) {
    document.fonts.ready.then(images).then(() => done(true));
  } else if (Date.now() - start > 60000) {
    done(false);
  } else {
    setTimeout(wait, 25);
  }
})();
"""


@functools.cache
def _chromium():
    paths = shutil.which("chromium"), shutil.which("chromedriver")
    if None in paths:
        raise RuntimeError("benchmarks.pages needs Debian's chromium and chromium-driver")
    return paths


class Server:
    """A folder served on 127.0.0.1 on a free port, for as long as the ``with`` lasts."""

    def __init__(self, folder):
        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

        handler = functools.partial(Quiet, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def browser(width=1200, height=900):
    """A headless Chromium that logs every request, with the HTTP cache off."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = _chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*CHROMIUM_FLAGS, f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_script_timeout(90)
    driver.set_page_load_timeout(90)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    return driver


def requested_urls(driver):
    """The URLs of the requests logged since the last call."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def weigh(driver, server, folder, page, quiet_seconds=0.5):
    """``{"bytes", "requests", "dom_elements", "largest", "files"}`` of one first visit of
    ``page``: ``largest`` names the three largest files, ``files`` lists every one."""
    requested_urls(driver)  # drop older entries
    driver.get(f"{server}/{page}")
    if not driver.execute_async_script(SETTLED):
        raise RuntimeError(f"{page} did not settle within a minute")
    urls = requested_urls(driver)
    while True:  # until no new request for quiet_seconds
        time.sleep(quiet_seconds)
        more = requested_urls(driver)
        if not more:
            break
        urls += more
    dom = driver.execute_script("return document.getElementsByTagName('*').length")
    paths = {unquote(urlsplit(u).path) for u in urls if u.startswith(f"{server}/")}
    files = {p: Path(folder) / p.lstrip("/") for p in paths}
    sizes = {p: f.stat().st_size for p, f in files.items() if f.is_file()}
    largest = sorted(sizes.items(), key=lambda item: -item[1])[:3]
    return {
        "bytes": sum(sizes.values()),
        "requests": len(paths),
        "dom_elements": dom,
        "largest": ", ".join(f"{Path(p).name} {s / 1024:,.0f} KiB" for p, s in largest),
        "files": sorted(sizes),
    }


def lighthouse_command():
    """The ``lighthouse`` command (``$LIGHTHOUSE`` or on the PATH), or None."""
    return os.environ.get("LIGHTHOUSE") or shutil.which("lighthouse")


#: Lighthouse's categories, each scored 0 to 100.
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def lighthouse(url, command):
    """Lighthouse's scores (0 to 100, by category) and its byte and DOM counts for ``url``."""
    env = dict(os.environ, CHROME_PATH=_chromium()[0])
    flags = " ".join(f for f in CHROMIUM_FLAGS if f != "--hide-scrollbars")
    result = subprocess.run(
        [command, url, f"--only-categories={','.join(CATEGORIES)}", "--output=json",
         "--output-path=stdout", "--quiet", f"--chrome-flags={flags}",
         "--max-wait-for-load=120000"],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"lighthouse failed on {url}: {result.stderr[-2000:]}")
    lhr = json.loads(result.stdout)
    audits = lhr["audits"]
    return {
        **{name: round(100 * lhr["categories"][name]["score"]) for name in CATEGORIES},
        "bytes": audits["total-byte-weight"]["numericValue"],
        "dom_elements": audits["dom-size"]["numericValue"],
        "lcp_s": audits["largest-contentful-paint"]["numericValue"] / 1000,
        "tbt_s": audits["total-blocking-time"]["numericValue"] / 1000,
    }


def measure(report, pages=AUDITED, folder=HTML, with_lighthouse=True):
    """Record each page's weight (a target for the audited pages) and Lighthouse's score."""
    folder = Path(folder)
    if not (folder / "index.html").exists():
        report.add("pages: skipped", f"no built book in {folder} (run make book)", "")
        return
    command = lighthouse_command() if with_lighthouse else None
    with Server(folder) as server:
        driver = browser()
        try:
            weights = {page: weigh(driver, server.url, folder, page) for page in pages}
        finally:
            driver.quit()
        for page, w in weights.items():
            before = BEFORE.get(page)
            report.add(
                f"{page}: weight of a first visit"
                + (f" (before: {before // 1024:,})" if before else ""),
                w["bytes"] // 1024,
                "KiB",
                at_most=before // 2048 if before else None,
                why="half the weight before issue 34" if before else None,
            )
            report.add(f"{page}: requests", w["requests"], "")
            report.add(f"{page}: DOM elements", w["dom_elements"], "")
            report.add(f"{page}: largest files", w["largest"], "")
        if with_lighthouse and command is None:
            report.add("pages: Lighthouse", "skipped: lighthouse is not installed", "")
        elif command:
            for page in pages:
                lh = lighthouse(f"{server.url}/{page}", command)
                report.add(f"{page}: Lighthouse performance (mobile)", lh["performance"], "")
                report.add(
                    f"{page}: Lighthouse accessibility, best practices, SEO",
                    f"{lh['accessibility']}, {lh['best-practices']}, {lh['seo']}",
                    "",
                )
                report.add(
                    f"{page}: Lighthouse bytes, DOM, LCP, TBT",
                    f"{lh['bytes']:,.0f} B, {lh['dom_elements']:,.0f}, "
                    f"{lh['lcp_s']:.1f} s, {lh['tbt_s']:.1f} s",
                    "",
                )


def main():
    from benchmarks.report import Report

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pages", nargs="*", help=f"pages to weigh (default: {', '.join(AUDITED)})")
    parser.add_argument("--html", default=str(HTML), help="the built book (default: _build/html)")
    parser.add_argument("--all", action="store_true", help="every page of the build")
    parser.add_argument("--no-lighthouse", action="store_true", help="skip Lighthouse")
    args = parser.parse_args()
    folder = Path(args.html)
    pages = args.pages or list(AUDITED)
    if args.all:
        pages = sorted(
            p.relative_to(folder).as_posix()
            for p in folder.rglob("*.html")
            if p.relative_to(folder).parts[0] not in ("_static", "_sources", "_images")
        )
    report = Report(unit_seconds=1.0)  # no times here: no calibration needed
    measure(report, pages, folder, with_lighthouse=not args.no_lighthouse)
    print()
    print(report.table())


if __name__ == "__main__":
    main()
