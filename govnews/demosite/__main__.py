"""``python -m govnews.demosite [--host 127.0.0.1] [--port 8765] [--articles N] [--seed S]``"""
from __future__ import annotations

import argparse
import os
import sys

from .loopback import serve_until_interrupted
from .server import DemoServer
from .site import DemoSite


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m govnews.demosite",
                                 description="Serve the demo government site on loopback.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT") or 8765))
    ap.add_argument("--articles", type=int, default=None, help="number of stories (default: the bundled demo)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    return serve_until_interrupted(lambda: DemoServer(DemoSite(args.articles, seed=args.seed), args.host, args.port),
                                   lambda server: f"demo site at {server.url}", args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())
