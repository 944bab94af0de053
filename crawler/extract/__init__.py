"""Pure extraction: ``bytes + url (+ now) -> Article``. No Scrapy or database imports, no wall clock.

Stages, one module each: :mod:`.decode` (bytes -> str), :mod:`.html` (str -> lxml tree, the one HTML
parser helper), :mod:`.metadata` (meta tags, labelled lines), :mod:`.dates`, :mod:`.body` (container +
trafilatura), :mod:`.clean` (cleaning steps; glosses and t2s come from :mod:`common.text`),
:mod:`.classify` (page outcome), :mod:`.pipeline` (``extract``, ``extract_page``). ``now`` (the fetch
time) is a keyword of ``extract``/``extract_page`` and the date functions; see docs/EXTRACTION.md.
"""
from .article import Article, Image
from .pipeline import extract, extract_page

__all__ = ["Article", "Image", "extract", "extract_page"]
