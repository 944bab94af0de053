"""Evaluation gate: extraction over every page of ``shared/corpus/truth.jsonl``, scored by ``shared/eval/score.py``.

``shared`` is ``../shared`` beside the repository (override with ``GOVNEWS_SHARED``). Without it the test
skips, except under ``CI=true`` where a missing corpus is a failure.
"""
import hashlib
import json
import subprocess
import sys

import pytest

from crawler.extract import extract
from tests.support.shared import require_shared

# Floors: what the extractor reaches (docs/EXTRACTION.md, issue 15 quality round: ALL 0.9664, chinese_wce 0.9522,
# magic_html 0.9869, date 0.964, titles 5/5), rounded down a little; raised, never lowered. The targets
# (body 0.95, chinese_wce 0.94, magic_html 0.95, date 0.96, 5 titles) are all reached: see docs/EXTRACTION.md.
FLOORS = {
    ("ALL", "body_f1"): 0.966,
    ("chinese_wce", "body_f1"): 0.952,
    ("magic_html", "body_f1"): 0.986,
    ("ALL", "date_acc"): 0.96,
    ("ALL", "title_acc"): 1.0,
}
#: body F1 per half of the fixed split (``sha1(page) % 2``: 0 = even, 1 = odd; docs/EXTRACTION.md): a rule that
#: helps one half only must not cost the other (even 0.9669, odd 0.9661 in the issue 15 quality round)
SPLIT_FLOORS = {0: 0.966, 1: 0.966}
pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def scores(tmp_path_factory):
    shared = require_shared()
    truth, score = shared / "corpus" / "truth.jsonl", shared / "eval" / "score.py"
    out = tmp_path_factory.mktemp("eval")
    pred = out / "predictions.jsonl"
    raw = shared / "corpus" / "raw"
    with open(truth, encoding="utf-8") as f, open(pred, "w", encoding="utf-8") as w:
        for line in f:
            t = json.loads(line)
            a = extract((raw / t["page"]).read_bytes(), url=t.get("url"))
            w.write(json.dumps({"page": t["page"], "title": a.title, "body": a.body,
                                "published_at": a.published_at.isoformat() if a.published_at else None,
                                "author": a.author, "source": a.source}, ensure_ascii=False) + "\n")
    report = out / "scores.json"
    proc = subprocess.run([sys.executable, str(score), str(pred), "--json", str(report)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    print(proc.stdout.strip().splitlines()[-1])
    return json.loads(report.read_text(encoding="utf-8"))


def test_every_page_scored(scores):
    assert scores["groups"]["ALL"]["pages"] == 122
    assert scores["groups"]["ALL"]["n_body_f1"] == 119


@pytest.mark.parametrize("group,metric", sorted(FLOORS))
def test_floor(scores, group, metric):
    value = scores["groups"][group][metric]
    assert value is not None and value >= FLOORS[(group, metric)], f"{group} {metric} = {value:.4f}"



@pytest.mark.parametrize("half", sorted(SPLIT_FLOORS))
def test_split_floor(scores, half):
    values = [r["body_f1"] for page, r in scores["pages"].items()
              if "body_f1" in r and int(hashlib.sha1(page.encode()).hexdigest(), 16) % 2 == half]
    value = sum(values) / len(values)
    print(f"half {half}: body_f1 {value:.4f} over {len(values)} pages")
    assert value >= SPLIT_FLOORS[half], f"half {half} body_f1 = {value:.4f}"
