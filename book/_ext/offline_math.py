"""Math that renders with no network: MathJax 3 from a PyPI package, copied into the build.

Sphinx's ``sphinx.ext.mathjax`` loads MathJax from a CDN by default, so a reader without
internet sees raw ``\\(...\\)`` and ``\\[...\\]``. This extension points ``mathjax_path`` at a
copy of MathJax 3 that it places in the build's ``_static/mathjax/``. The files come from the
PyPI package ``sphinx-mathjax-offline`` (pinned in requirements.txt), which ships MathJax 3's
``es5`` directory. A page loads MathJax's smaller component set (about 0.75 MB, against
1.3 MB for the combined ``tex-chtml-full.js`` the book used before):

- ``startup.js``, which loads the components listed in ``mathjax3_config["loader"]``:
  ``core``, ``input/tex`` (the TeX input with the packages ``base``, ``ams``, ``newcommand``,
  ``noundefined``, ``require``, ``autoload`` and ``configmacros``), ``output/chtml`` with its
  font data and ``a11y/assistive-mml`` (hidden MathML that screen readers read; the full
  file turned it on through its contextual menu, which is left out);
- ``input/tex/extensions/``: every other TeX package, fetched by ``autoload`` from this local
  copy only when a page uses one of its macros (``\\boldsymbol``, ``\\cancel``, ...);
- ``output/chtml/fonts/woff-v2/``: the fonts CommonHTML draws with.

Enabled from ``_config.yml`` as a Jupyter Book local extension
(``sphinx: local_extensions: {offline_math: book/_ext}``). MyST keeps adjusting
``mathjax3_config`` as usual (only elements of class ``math`` are typeset).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from sphinx.errors import ExtensionError

#: The PyPI distribution whose top-level (hyphenated) folder holds MathJax's files.
PACKAGE = "sphinx-mathjax-offline"
#: The MathJax file the pages load, relative to the MathJax folder: the loader.
ENTRY = "startup.js"
#: The components the loader loads on every page with math.
COMPONENTS = ("core", "input/tex", "output/chtml", "a11y/assistive-mml")
#: What the pages need of MathJax: the loader, the components (with the font data CommonHTML
#: loads by itself), the TeX packages ``autoload`` fetches on demand, and the fonts.
NEEDED = (
    ENTRY,
    *(f"{name}.js" for name in COMPONENTS),
    "output/chtml/fonts/tex.js",
    "input/tex/extensions",
    "output/chtml/fonts/woff-v2",
)
#: Where the copy goes, relative to the HTML output's ``_static``.
TARGET = "mathjax"


def mathjax_source() -> Path:
    """The folder of the installed package's MathJax files; a clear error if it is missing."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionError(
            f"offline_math needs the package {PACKAGE} (pinned in requirements.txt); "
            "install the requirements"
        )
    folder = Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax"
    missing = [name for name in NEEDED if not (folder / name).exists()]
    if missing:
        raise ExtensionError(f"offline_math: {folder} lacks {', '.join(missing)}")
    return folder


def use_local_mathjax(app, config) -> None:
    mathjax_source()  # fail at the start of the build, not after executing every chapter
    config.mathjax_path = f"{TARGET}/{ENTRY}"  # relative paths are served from _static/
    # MyST adds its own options to this dictionary later (which elements to typeset).
    config.mathjax3_config = dict(config.mathjax3_config or {})
    config.mathjax3_config["loader"] = {"load": list(COMPONENTS)}


def copy_mathjax(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source, target = mathjax_source(), Path(app.outdir) / "_static" / TARGET
    for name in NEEDED:
        if (source / name).is_dir():
            shutil.copytree(source / name, target / name, dirs_exist_ok=True)
        else:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, target / name)


def setup(app):
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("config-inited", use_local_mathjax)
    app.connect("build-finished", copy_mathjax)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
