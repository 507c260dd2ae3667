"""The API page's references to other libraries' objects, ignored one by one (``nitpicky`` is on).

The book builds with ``nitpicky: true`` and warnings as errors, so that every reference a page
makes (a chapter's link to the API, a role in a docstring) must resolve. The package's own
names resolve: a docstring names an object by the path ``book/api.md`` documents it under
(``nntrain.reference.fc_net.FullyConnectedNet``, not the re-export
``nntrain.reference.FullyConnectedNet``; a leading ``~`` shows the short name), writes a
private helper (``_step``) as a literal, not a role, and keeps the first line of an attribute's
``#:`` comment free of a colon (napoleon reads the words before one as the type).

The objects of other libraries cannot resolve: the book builds offline, without their
inventories (intersphinx would download them). They are listed below exactly, by kind, so that
any other broken reference still fails the build. Remove a row once no docstring makes it.

Enabled from ``_config.yml`` as a Jupyter Book local extension
(``sphinx: local_extensions: {api_refs: book/_ext}``).
"""

from __future__ import annotations

#: Objects of other libraries. ``Module`` is written bare by PyTorch's own docstring of
#: ``nn.Module.forward``, which the twins' modules inherit.
EXTERNAL = [
    ("py:class", "Module"),
    ("py:class", "matplotlib.figure.Figure"),
    ("py:class", "numpy.ndarray"),
    ("py:class", "numpy.random.Generator"),
    ("py:class", "os.PathLike"),
    ("py:class", "torch.Generator"),
    ("py:func", "scipy.special.erfc"),
    ("py:func", "sklearn.datasets.load_digits"),
    ("py:func", "sklearn.datasets.load_sample_images"),
    ("py:mod", "warnings"),
]

KNOWN_UNRESOLVED = EXTERNAL


def add_known(app, config):
    config.nitpick_ignore = [*config.nitpick_ignore, *KNOWN_UNRESOLVED]


def setup(app):
    app.connect("config-inited", add_known)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
