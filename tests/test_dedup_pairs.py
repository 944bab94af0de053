"""Labelled pair set (tests/fixtures/dedup/pairs.jsonl): pair precision >= 0.99, recall >= 0.95.

Pairs are built from real pages in ../shared (seed page dumps, hand-checked corpus bodies) and
mutations of them: repost with another template, traditional characters with pinyin glosses,
trimmed last paragraph, changed date and editor, body printed twice; plus hard negatives: same
boilerplate, same long quoted policy paragraph, same title / same column and day, unrelated pages.

Each pair is stored through :class:`storage.archive.Archive` (URL a, then URL b) on SQLite and
PostgreSQL; "merged" means both landed on the same article (duplicate or revision).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import delete

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "dedup"
PRECISION_MIN, RECALL_MIN = 0.99, 0.95

GLOSSES = {"區": "qū", "發": "fā", "經": "jīng", "濟": "jì", "設": "shè", "報": "bào", "務": "wù",
           "現": "xiàn", "計": "jì", "項": "xiàng", "動": "dòng", "為": "wèi", "會": "huì",
           "產": "chǎn", "業": "yè", "這": "zhè", "對": "duì", "開": "kāi", "關": "guān"}


def load_sources(shared: Path) -> dict[str, str]:
    """``seed:<file>`` -> article paragraphs of a seed dump; ``truth:<page>`` -> corpus body."""
    out: dict[str, str] = {}
    for f in sorted((shared / "seeds").glob("[0-9]*.txt")):
        paras = [ln.strip() for ln in f.read_text(encoding="utf-8").splitlines() if len(ln.strip()) >= 30]
        out[f"seed:{f.name}"] = "\n".join(paras)
    for line in (shared / "corpus" / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        body = (row.get("body") or "").strip()
        if len(body) >= 80:
            out[f"truth:{row['page']}"] = body
    return out


def _snippets() -> dict:
    return json.loads((FIXTURES / "snippets.json").read_text(encoding="utf-8"))


def _trim_last(t: str) -> str:
    paras = [p for p in t.split("\n") if p.strip()]
    if len(paras) >= 3 and len(paras[-1]) < 0.35 * len(t):
        return "\n".join(paras[:-1])
    sentences = re.split(r"(?<=[。！？])", t)
    sentences = [s for s in sentences if s]
    if len(sentences) >= 3 and len(sentences[-1]) < 0.35 * len(t):
        return "".join(sentences[:-1])
    return t[: int(len(t) * 0.8)]


def _date_editor(t: str) -> str:
    t = re.sub(r"(\d{4})([-年/.])(\d{1,2})([-月/.])(\d{1,2})",
               lambda m: f"{int(m[1]) + 1}{m[2]}{m[3]}{m[4]}{(int(m[5]) % 28) + 1}", t)
    t = re.sub(r"(编辑|責任編輯|责任编辑)[:：]\s*\S+", r"\1：王小明", t)
    return t + "\n（编辑：王小明　责任编辑：赵大海）"


def _traditional_glosses(t: str) -> str:
    from opencc import OpenCC

    trad = OpenCC("s2t").convert(t)
    return "".join(c + (f"({GLOSSES[c]})" if c in GLOSSES else "") for c in trad)


def apply_ops(text: str, ops: list[str], snip: dict) -> str:
    for op in ops:
        name, _, arg = op.partition(":")
        if name == "template":
            tpl = snip["templates"][int(arg)]
            text = f"{tpl['head']}\n{text}\n{tpl['foot']}"
        elif name == "traditional_glosses":
            text = _traditional_glosses(text)
        elif name == "trim_last":
            text = _trim_last(text)
        elif name == "date_editor":
            text = _date_editor(text)
        elif name == "twice":
            text = text + "\n" + text
        elif name == "prefix":
            text = text[: int(arg)]
        elif name == "boilerplate":
            text = text + "\n" + snip["boilerplate"][int(arg)]
        elif name == "quote":
            mid = len(text) // 2
            text = text[:mid] + "\n" + snip["quotes"][int(arg)] + "\n" + text[mid:]
        elif name == "title":
            text = snip["titles"][int(arg)] + "\n" + text
        elif name == "column_day":
            text = snip["column_day_head"] + "\n" + text
        else:
            raise ValueError(f"unknown op {op!r}")
    return text


@pytest.fixture(scope="module")
def pairs():
    from tests.support.shared import require_shared

    shared = require_shared()
    src = load_sources(shared)
    snip = _snippets()
    out = []
    for line in (FIXTURES / "pairs.jsonl").read_text(encoding="utf-8").splitlines():
        p = json.loads(line)
        missing = [s["src"] for s in (p["a"], p["b"]) if s["src"] not in src]
        assert not missing, f"pair {p['id']}: sources missing from {shared}: {missing}"
        out.append((p, apply_ops(src[p["a"]["src"]], p["a"]["ops"], snip),
                    apply_ops(src[p["b"]["src"]], p["b"]["ops"], snip)))
    return out


def _score(results):
    tp = sum(1 for p, m in results if m and p["label"])
    fp = [p["id"] for p, m in results if m and not p["label"]]
    fn = [p["id"] for p, m in results if not m and p["label"]]
    precision = tp / (tp + len(fp)) if tp + len(fp) else 1.0
    recall = tp / (tp + len(fn)) if tp + len(fn) else 1.0
    return precision, recall, fp, fn


def test_pair_set_is_balanced(pairs):
    kinds = {p["kind"].split(":")[0] for p, _, _ in pairs}
    assert kinds == {"mutation", "neg"}
    assert sum(p["label"] for p, _, _ in pairs) >= 200
    assert sum(not p["label"] for p, _, _ in pairs) >= 200
    for k in ("neg:same_boilerplate", "neg:same_quote", "neg:same_title_column_day"):
        assert any(p["kind"] == k for p, _, _ in pairs)
    for op in ("template", "traditional_glosses", "trim_last", "date_editor", "twice"):
        assert any(op in p["kind"] for p, _, _ in pairs)


def test_pairs_through_archive(pairs, archive):
    from storage.models import Article

    results = []
    for i, (p, a_text, b_text) in enumerate(pairs):
        ra = archive.store_article("a", f"http://a.gov.cn/{i}.html", {"title": "t", "body": a_text})
        rb = archive.store_article("b", f"http://b.gov.cn/{i}.html", {"title": "t", "body": b_text})
        assert ra.outcome == "new"
        results.append((p, rb.article_id == ra.article_id))
        if rb.article_id == ra.article_id:
            assert rb.outcome in ("duplicate", "revision")
        with archive.engine.begin() as c:  # isolate pairs: cascade to bands, sightings, revisions
            c.execute(delete(Article).where(Article.id.in_({ra.article_id, rb.article_id})))
    precision, recall, fp, fn = _score(results)
    print(f"\npairs={len(results)} precision={precision:.4f} recall={recall:.4f}")
    assert precision >= PRECISION_MIN, f"false merges: {fp}"
    assert recall >= RECALL_MIN, f"missed: {fn}"
