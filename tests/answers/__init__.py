"""Answers to every graded exercise of the book, to test its graders (tests/test_graders.py).

One module per chapter, named after it (``ch00_network`` for ``book/00_network.ipynb``),
holds ``ANSWERS``: for each graded exercise, keyed by the first function its solution cell
defines, ``"wrong"`` answers (the mistakes students make: a wrong axis, a missing term, a
mutated input, a hard-coded constant, a call to the package's own solution, an answer right
only on the public case) and ``"right"`` ones written differently from the book's solution.
Each answer is the whole code of the solution cell, as a student would hand it in.
"""
