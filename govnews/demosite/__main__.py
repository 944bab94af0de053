"""``python -m govnews.demosite [--host 127.0.0.1] [--port 8765] [--articles N] [--seed S]``"""
from __future__ import annotations

import argparse
import os
import sys

from .server import DemoServer, NonLoopbackError
from .site import DemoSite


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m govnews.demosite",
                                 description="Serve the demo government site on loopback.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT") or 8765))
    ap.add_argument("--articles", type=int, default=None, help="number of stories (default: the bundled demo)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    try:
        server = DemoServer(DemoSite(args.articles, seed=args.seed), args.host, args.port)
    except NonLoopbackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"demo site at {server.url} (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
