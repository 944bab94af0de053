"""``python -m govnews.stylezoo --style NAME [--port N] [--articles N] [--seed S]`` or ``--list``."""
from __future__ import annotations

import argparse
import sys

from govnews.demosite.loopback import serve_until_interrupted

from .server import ZooServer
from .site import ZooSite
from .styles import STYLES


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m govnews.stylezoo",
                                 description="Serve one style of the style zoo on loopback.")
    ap.add_argument("--style", help="style name (see --list)")
    ap.add_argument("--list", action="store_true", help="list the styles and exit")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8766)
    ap.add_argument("--articles", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    if a.list:
        for name, cls in STYLES.items():
            site = ZooSite(name, n_articles=6)
            print(f"{name:<12} {cls.family:<28} e.g. {site.articles[0].path}   paging: {cls.paging}")
        return 0
    if not a.style or a.style not in STYLES:
        print(f"error: --style must be one of: {', '.join(STYLES)}", file=sys.stderr)
        return 2
    return serve_until_interrupted(lambda: ZooServer(ZooSite(a.style, a.articles, a.seed), a.host, a.port),
                                   lambda server: f"style {a.style} at {server.home_url}", a.host, a.port)


if __name__ == "__main__":
    sys.exit(main())
