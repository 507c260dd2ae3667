"""A package function as a student who wrote the same code would hand it in.

The graders (nntrain.checks) refuse the package's own functions and any answer that calls
the package's solution while it runs (they watch the calls with ``sys.setprofile``). A
test that needs a right answer and would rather not write the technique a second time hands
in :func:`student_copy`: a function of the test's own, whose calls into the package the
graders do not see, as if the code were the student's.
"""

import sys


def student_copy(fn, name=None):
    """``fn`` wrapped so that its calls are invisible to the graders' watch."""

    def copy(*args, **kwargs):
        watching = sys.getprofile()
        sys.setprofile(None)
        try:
            return fn(*args, **kwargs)
        finally:
            sys.setprofile(watching)

    copy.__name__ = copy.__qualname__ = name or getattr(fn, "__name__", "answer")
    return copy
