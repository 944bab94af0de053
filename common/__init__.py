"""The bottom layer: small pure helpers every other package may use (text, clock, secrets, hosts).

``common`` imports nothing from ``storage``, ``crawler`` or ``govnews`` (checked by ``make check``).
Layers, lowest first: ``common`` <- ``storage`` <- ``crawler`` <- ``govnews``.
"""
