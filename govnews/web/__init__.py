"""The archive in a browser: a read-only WSGI app (``govnews serve``), Atom feeds, the crawl-health page."""
