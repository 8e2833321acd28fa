"""Measured performance figures (``make bench``, i.e. ``python -m portal.devtools.bench``), one module per section.

Never run by the tests: the sections build large scratch databases of their own (support.py) and take minutes.
"""
