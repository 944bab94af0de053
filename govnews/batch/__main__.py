"""``python -m govnews.batch '<options JSON>'``: the batch process (see :mod:`govnews.batch.process`)."""
import signal
import sys

from govnews.batch.process import main

if __name__ == "__main__":
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main(sys.argv[1:]))
