"""Pure extraction: ``bytes + url -> Article``. No Scrapy or database imports in this package.

Stages, one module each: :mod:`.decode` (bytes -> str), :mod:`.metadata` (meta tags, labelled lines),
:mod:`.dates`, :mod:`.body` (container + trafilatura), :mod:`.clean` (cleaning steps),
:mod:`.classify` (page outcome), :mod:`.pipeline` (``extract``).
"""
from .article import Article, Image
from .pipeline import extract, extract_page

__all__ = ["Article", "Image", "extract", "extract_page"]
