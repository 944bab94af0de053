"""Who holds a lock or wrote a file: ``host:pid``."""
from __future__ import annotations

import os
import socket


def holder_id(pid: int | None = None) -> str:
    """``hostname:pid`` of this process (or of ``pid`` on this host)."""
    return f"{socket.gethostname()}:{os.getpid() if pid is None else pid}"


def parse_holder(holder: str | None) -> tuple[str, int] | None:
    """``("host", pid)`` from ``host:pid`` (None when it is not of that form)."""
    host, sep, pid = (holder or "").rpartition(":")
    if not sep or not host or not pid.isdigit():
        return None
    return host, int(pid)


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
