"""Each inline ``<script>`` an extension adds appears once per page, not twice.

Sphinx 7.4 writes an inline script (``app.add_js_file(None, body=...)``) twice when an
extension adds it after the HTML builder exists: once as given (file name ``None``) and once
from the registry (file name ``''``), which its duplicate check tells apart. sphinx-thebe's
``const THEBE_JS_URL = ...`` then runs twice and every page logs
``Uncaught SyntaxError: Identifier 'THEBE_JS_URL' has already been declared``. Sphinx fixed
this upstream after 7.4 (sphinx-doc/sphinx pull request 13402, in Sphinx 8), which Jupyter
Book 1 cannot use; this extension applies the same fix, giving the builder ``''`` both times.
Remove it when the book moves to a Sphinx that has the fix.
"""

from __future__ import annotations


def normalise_inline_js(app) -> None:
    builder = app.builder
    if not hasattr(builder, "add_js_file"):
        return
    add_js_file = builder.add_js_file

    def add_js_file_once(filename, **kwargs):
        add_js_file(filename or "", **kwargs)

    builder.add_js_file = add_js_file_once


def setup(app):
    # Before any other builder-inited handler adds an inline script (the default is 500).
    app.connect("builder-inited", normalise_inline_js, priority=1)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
