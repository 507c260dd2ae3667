"""Package names in the prose link to their API entry.

A chapter writes the package's names as inline code: `batchnorm_forward`, `train()`,
`nntrain.search.train_batched`, `init.xavier_normal`. After every page is read, the Python
domain knows every object the API page documents (``book/api.md``), and this extension turns
the first mention of each object in each section of a page into a link to its entry; the
literal keeps its text. A name is linked only when it says which object it is:

- **Its last part is the object's name**, and its other parts appear, in order, in the
  object's full path (``babysit.checklist`` is ``nntrain.babysit.steps.checklist``). A call
  (``train()``, ``train(net, data)``) names the function before the parenthesis, and a
  leading ``nntrain.`` is dropped.
- **Unqualified names mean the NumPy reference**, the version the book reads: `sgd` is
  ``nntrain.reference.optim.sgd``, not its twin. An object of the twin needs its qualifier
  (``nntrain.torch.optim.Adam``), so `Adam` or `SGD` alone, which the chapters use for
  PyTorch's own optimizers, stay plain text, as do names that start with PyTorch's
  ``torch.``, ``nn.`` or ``F.``.
- **Functions, classes, data and modules** by their name; methods and attributes only
  with their class (``Standardize.fit``). A bare name that is also some class's method or
  attribute (`params`, `fit`, `loss`) is a word of many objects and stays plain text, as
  does a name that still matches several objects after a function or class is preferred
  to a module of the same name (`train` is the function ``nntrain.train.train``).

The rule lives in :func:`target`, a pure function the tests call with a made-up table.

Enabled from ``_config.yml`` as a Jupyter Book local extension
(``sphinx: local_extensions: {api_links: book/_ext}``).
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.util.nodes import make_refnode

#: Pages whose prose is not linked: the API page itself.
SKIPPED_PAGES = ("book/api",)
#: Object kinds a name links to on its own; others need their class in the name.
TOP_LEVEL = ("function", "class", "exception", "data", "module")
#: Names written for PyTorch's objects, which the book has no entry for.
PYTORCH = re.compile(r"(torch|nn|F)\.")
NAME = re.compile(r"[A-Za-z_][\w.]*")


def mentioned(text):
    """The dotted name a literal writes, or None: ``train(net)`` -> ``train``,
    ``nntrain.device()`` -> ``device``, ``torch.optim.SGD`` (PyTorch's) -> None."""
    if PYTORCH.match(text):
        return None
    name = text.split("(", 1)[0].strip().removeprefix("nntrain.")
    return name if NAME.fullmatch(name) and not name.endswith(".") else None


def contains_in_order(parts, path):
    """Whether ``parts`` appear in ``path`` in this order (not necessarily adjacent)."""
    rest = iter(path)
    return all(part in rest for part in parts)


def target(text, objects):
    """The full name of the object the literal ``text`` names, or None.

    ``objects`` maps each documented object's full name to its kind ("function", "class",
    "method", ...), as the Python domain lists them.

    Example:
        >>> objects = {"nntrain.train": "module", "nntrain.train.train": "function",
        ...     "nntrain.reference.optim.sgd": "function",
        ...     "nntrain.torch.optim.sgd": "function", "nntrain.torch.optim.Adam": "class",
        ...     "nntrain.validation.params": "function", "nntrain.Net.params": "attribute"}
        >>> target("train()", objects), target("optim.sgd", objects), target("Adam", objects)
        ('nntrain.train.train', 'nntrain.reference.optim.sgd', None)
        >>> target("params", objects), target("Net.params", objects)
        (None, 'nntrain.Net.params')
        >>> target("nntrain.torch.optim.Adam", objects)
        'nntrain.torch.optim.Adam'
    """
    name = mentioned(text)
    if name is None:
        return None
    *qualifiers, last = name.split(".")
    found, members = [], []
    for full, kind in objects.items():
        path = full.split(".")
        if path[-1] != last or not contains_in_order(qualifiers, path[1:-1]):
            continue
        if kind in TOP_LEVEL:
            found.append((full, kind))
        elif qualifiers and qualifiers[-1] == path[-2]:
            members.append((full, kind))
        elif not qualifiers:
            return None  # `params`: some class's attribute too
    found += members
    if "torch" not in name.split("."):
        found = [(f, k) for f, k in found if not f.startswith("nntrain.torch")]
    if len(found) > 1:  # a function or a class before a module of the same name
        found = [(f, k) for f, k in found if k != "module"] or found
    return found[0][0] if len(found) == 1 else None


def documented(env):
    """Every object of the Python domain: full name -> kind, and full name -> (page, id)."""
    objects = env.get_domain("py").objects
    kinds = {name: entry.objtype for name, entry in objects.items() if not entry.aliased}
    places = {name: (entry.docname, entry.node_id) for name, entry in objects.items()}
    return kinds, places


def section_of(node):
    """The id of the second-level section holding ``node`` (the page's, above the first)."""
    sections = []
    while node is not None:
        if isinstance(node, nodes.section):
            sections.append(node)
        node = node.parent
    outer = sections[-2] if len(sections) > 1 else (sections[-1] if sections else None)
    return outer["ids"][0] if outer is not None and outer["ids"] else ""


def linkable(node):
    """An inline literal of the prose, not already in a link, a title or a code block."""
    parent = node.parent
    while parent is not None:
        if isinstance(parent, (nodes.reference, nodes.title, nodes.literal_block)):
            return False
        parent = parent.parent
    return True


def link_names(app, doctree, docname):
    if docname in SKIPPED_PAGES or not docname.startswith("book/"):
        return
    kinds, places = documented(app.env)
    seen = set()
    for literal in list(doctree.findall(nodes.literal)):
        if not linkable(literal):
            continue
        full = target(literal.astext(), kinds)
        key = (section_of(literal), full)
        if full is None or key in seen:
            continue
        seen.add(key)
        page, anchor = places[full]
        literal["classes"] += ["xref", "py"]
        link = make_refnode(app.builder, docname, page, anchor, literal.deepcopy(), full)
        literal.replace_self(link)


def setup(app):
    app.connect("doctree-resolved", link_names)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
