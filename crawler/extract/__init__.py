"""Pure extraction: ``bytes + url -> Article``. No Scrapy or database imports in this package."""
from .article import Article, Image

__all__ = ["Article", "Image"]
