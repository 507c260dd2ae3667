"""The API page's known unresolved references, ignored one by one (``nitpicky`` is on).

The book builds with ``nitpicky: true`` and warnings as errors, so that every reference a page
makes (a chapter's link to the API, a role in a docstring) must resolve. The docstrings of
the package still make the references below, which do not resolve; each is listed exactly,
by kind, so that a new broken reference still fails the build, and each group says how it
would be fixed (in the package's docstrings or in ``book/api.md``). Remove a row once it is
fixed: an entry that no longer occurs costs nothing, but keeps the list honest only if pruned.

Enabled from ``_config.yml`` as a Jupyter Book local extension
(``sphinx: local_extensions: {api_refs: book/_ext}``).
"""

from __future__ import annotations

#: Objects of other libraries: the book builds offline, without their inventories
#: (intersphinx would download them). ``Module`` and ``array`` are type names written bare.
EXTERNAL = [
    ("py:class", "Module"),
    ("py:class", "matplotlib.figure.Figure"),
    ("py:class", "numpy.ndarray"),
    ("py:class", "numpy.random.Generator"),
    ("py:class", "os.PathLike"),
    ("py:class", "torch.Generator"),
    ("py:func", "array"),
    ("py:func", "create_study"),
    ("py:func", "scipy.special.erfc"),
    ("py:func", "sklearn.datasets.load_digits"),
    ("py:func", "sklearn.datasets.load_sample_images"),
    ("py:mod", "warnings"),
]

#: Names a package re-exports (``nntrain.reference.affine_forward``) but ``book/api.md``
#: documents where they are defined (``nntrain.reference.layers.affine_forward``): the
#: docstrings should name the documented path.
REEXPORTED = [
    ("py:class", "nntrain.babysit.Check"),
    ("py:class", "nntrain.babysit.Report"),
    ("py:class", "nntrain.reference.FullyConnectedNet"),
    ("py:class", "nntrain.torch.Affine"),
    ("py:class", "nntrain.torch.Dropout"),
    ("py:class", "nntrain.torch.FullyConnectedNet"),
    ("py:func", "nntrain.babysit.checklist"),
    ("py:func", "nntrain.babysit.lr_range_test"),
    ("py:func", "nntrain.reference.affine_forward"),
    ("py:func", "nntrain.reference.elu_forward"),
    ("py:func", "nntrain.reference.gelu_forward"),
    ("py:func", "nntrain.reference.leaky_relu_forward"),
    ("py:func", "nntrain.reference.max_norm"),
    ("py:func", "nntrain.reference.maxout_forward"),
    ("py:func", "nntrain.reference.prelu_forward"),
    ("py:func", "nntrain.reference.sigmoid_forward"),
    ("py:func", "nntrain.reference.silu_forward"),
    ("py:func", "nntrain.reference.softmax_loss"),
    ("py:func", "nntrain.reference.svm_loss"),
    ("py:func", "nntrain.reference.tanh_forward"),
]

#: Bare names in docstrings (``grid_search``) whose module is not the current one: they need
#: their full path or a leading ``~`` with it.
UNQUALIFIED = [
    ("py:class", "Check"),
    ("py:class", "Choice"),
    ("py:class", "IntUniform"),
    ("py:class", "LogUniform"),
    ("py:class", "Report"),
    ("py:class", "Uniform"),
    ("py:data", "DEFAULTS"),
    ("py:data", "STATE"),
    ("py:data", "STYLE"),
    ("py:data", "VERDICTS"),
    ("py:func", "_end_of_epoch"),
    ("py:func", "_step"),
    ("py:func", "batched_fit"),
    ("py:func", "batchnorm_forward"),
    ("py:func", "checklist"),
    ("py:func", "dropout_forward"),
    ("py:func", "edge_warnings"),
    ("py:func", "find_book"),
    ("py:func", "first_layer_images"),
    ("py:func", "grading_copy"),
    ("py:func", "grid_search"),
    ("py:func", "halve"),
    ("py:func", "halving_schedule"),
    ("py:func", "hyperband"),
    ("py:func", "hyperband_schedule"),
    ("py:func", "lr_range_test"),
    ("py:func", "narrow"),
    ("py:func", "optuna_objective"),
    ("py:func", "random_search"),
    ("py:func", "resume_batched"),
    ("py:func", "roughness"),
    ("py:func", "running_stat"),
    ("py:func", "should_stop"),
    ("py:func", "successive_halving"),
    ("py:func", "suggest"),
    ("py:func", "train_batched"),
    ("py:func", "train_fit"),
    ("py:func", "widen"),
    ("py:meth", "bad_values"),
    ("py:meth", "bounds"),
    ("py:meth", "double"),
    ("py:meth", "is_good"),
    ("py:meth", "is_kind"),
    ("py:meth", "kind"),
]

#: Prose that napoleon reads as a type: ``#: The colours (by name)`` or ``Returns: the keys
#: (...)`` put the words in parentheses where a type goes; rewording them fixes it.
PROSE_AS_TYPE = [
    ("py:class", "A condition number"),
    ("py:class", "A4 with the LaTeX build's margins"),
    ("py:class", "Every frame"),
    ("py:class", "Facts the prose may quote without a cell printing them"),
    ("py:class", "Nonlinearities a hidden layer may use"),
    ("py:class", "Penalties on the weights"),
    ("py:class", "The colours"),
    ("py:class", "The verdict"),
    ("py:class", "The width"),
    ("py:class", "What a claim is"),
    ("py:class", "a check that passed with a warning"),
    ("py:class", "by name"),
    ("py:class", "classes and curves"),
    ("py:class", "in inches"),
    ("py:class", "the keys"),
    ("py:class", "the printed page's text"),
    ("py:class", "the reference's table"),
]

KNOWN_UNRESOLVED = EXTERNAL + REEXPORTED + UNQUALIFIED + PROSE_AS_TYPE


def add_known(app, config):
    config.nitpick_ignore = [*config.nitpick_ignore, *KNOWN_UNRESOLVED]


def setup(app):
    app.connect("config-inited", add_known)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
