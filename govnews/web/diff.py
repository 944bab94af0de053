"""Revisions side by side as one inline diff: paragraphs matched, changed characters marked."""
from __future__ import annotations

from difflib import SequenceMatcher
from html import escape

from markupsafe import Markup

__all__ = ["diff_html"]


def _paras(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split("\n") if p.strip()]


def _inline(old: str, new: str) -> str:
    out = []
    sm = SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            out.append(escape(old[i1:i2]))
            continue
        if i2 > i1:
            out.append(f"<del>{escape(old[i1:i2])}</del>")
        if j2 > j1:
            out.append(f"<ins>{escape(new[j1:j2])}</ins>")
    return "".join(out)


def diff_html(old: str | None, new: str | None) -> Markup:
    """``<p>`` per paragraph; removed text in ``<del>``, added text in ``<ins>`` (all escaped)."""
    a, b = _paras(old), _paras(new)
    out = []
    sm = SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            out += [f'<p class="same">{escape(p)}</p>' for p in a[i1:i2]]
        elif op == "replace":
            pairs = list(zip(a[i1:i2], b[j1:j2]))
            out += [f'<p class="changed">{_inline(x, y)}</p>' for x, y in pairs]
            out += [f'<p class="removed"><del>{escape(p)}</del></p>' for p in a[i1 + len(pairs):i2]]
            out += [f'<p class="added"><ins>{escape(p)}</ins></p>' for p in b[j1 + len(pairs):j2]]
        elif op == "delete":
            out += [f'<p class="removed"><del>{escape(p)}</del></p>' for p in a[i1:i2]]
        else:
            out += [f'<p class="added"><ins>{escape(p)}</ins></p>' for p in b[j1:j2]]
    return Markup("".join(out))
