"""Site profile (TOML, see ``crawler/profiles.py``) for the demo site on any loopback base URL."""
from __future__ import annotations

from urllib.parse import urlsplit

from .site import DATAPROXY, LIST_START  # noqa: F401  (LIST_START documents the sections)

ARTICLE_URL_REGEX = (
    r"(/t\d{8}_\d+\.html|/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html|/content_\d+\.htm"
    r"|/mirror/html/\d{8}/\d+\.html)$"
)


def demo_profile_toml(base_url: str = "http://127.0.0.1:8765/", *, name: str = "demo",
                      schedule: str = "*/30 * * * *", hints: bool = True, max_pages: int = 2000) -> str:
    """TOML text of the demo site profile for a server at ``base_url``.

    ``hints=False`` leaves out the URL-pattern hint, so tests can check the crawler's own
    article-link heuristics.
    """
    base = base_url.rstrip("/")
    host = urlsplit(base).hostname or "127.0.0.1"
    starts = [f"{base}/"] + [f"{base}{LIST_START[s]}" for s in ("trs", "hanweb", "portal", "mirror")]
    lines = [
        f'name = "{name}"',
        'title = "示范县人民政府（演示站点）"',
        "start_urls = [",
        *[f'    "{u}",' for u in starts],
        "]",
        f'allowed_domains = ["{host}"]',
        f'allow_private_hosts = ["{host}"]',
        f'feeds = ["{base}/rss.xml"]',
        f'schedule = "{schedule}"',
        'notes = "Bundled demo site: `govnews serve-demo` serves it on loopback; '
        'TRS, Hanweb, home-made and mirror sections."',
        "",
        "[hints]",
        "download_delay = 0",
        f"max_pages = {max_pages}",
    ]
    if hints:
        lines.append(f"article_url_regex = '{ARTICLE_URL_REGEX}'")
    return "\n".join(lines) + "\n"
