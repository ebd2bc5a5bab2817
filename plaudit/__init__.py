"""The composition root: the `plaudit` command (`cli`) and the one-process demo (`demo`).

This is the only package that may import every other one; it wires settings, logging, the
broker and the processes together. What the parts share lives in `core`.
"""
