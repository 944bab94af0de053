"""Several processes store the same story (exact and near-duplicate texts) at the same moment.

Correctness comes from the database (unique content_hash / sighting url + retry, per-band
advisory locks on PostgreSQL, BEGIN IMMEDIATE on SQLite), so exactly one article must result.
"""
from __future__ import annotations

import multiprocessing as mp

from sqlalchemy import func, select

from storage.archive import Archive
from storage.models import Article, ArticleRevision, Sighting

BASE = [
    "区政府召开常务会议，研究部署今冬明春安全生产和森林防火工作。",
    "会议指出，当前已进入森林防火紧要期，各镇街、各部门要压紧压实责任，强化巡查管控，坚决防范重特大火灾发生。",
    "会议强调，要深入开展安全生产隐患排查整治，聚焦道路交通、建筑施工、燃气等重点行业领域，建立问题清单，限期整改销号。",
    "会议还研究了其他事项。区领导班子成员、各部门主要负责人列席会议。",
    "会议要求，各级各部门要严格落实领导带班和二十四小时值班制度，确保信息畅通、处置及时。",
]


def _variant(i: int) -> str:
    paras = list(BASE)
    if i % 3 == 1:
        paras.append(f"（责任编辑：编辑{i}号）")  # near duplicate: an editor line
    elif i % 3 == 2:
        paras[-1] = paras[-1] + f"第{i}次更新。"  # near duplicate: a changed sentence
    return "\n".join(paras)


def _worker(url, i, barrier, out):
    a = Archive(url)
    try:
        barrier.wait(timeout=60)
        r = a.store_article(f"site{i % 2}", f"http://s{i}.gov.cn/a.html",
                            {"title": "常务会议", "body": _variant(i)})
        out.put((i, r.outcome, r.article_id))
    except Exception as exc:  # pragma: no cover - reported to the parent
        out.put((i, f"error: {exc!r}", None))
    finally:
        a.close()


def test_concurrent_near_duplicates_make_one_article(db_url):
    a = Archive(db_url)
    a.ensure_site("site0")
    a.ensure_site("site1")
    n = 8
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(db_url, i, barrier, out)) for i in range(n)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in range(n)]
    for p in procs:
        p.join(60)
    errors = [r for r in results if str(r[1]).startswith("error")]
    assert not errors, errors
    outcomes = sorted(r[1] for r in results)
    assert outcomes.count("new") == 1, outcomes
    assert len({r[2] for r in results}) == 1
    with a.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(Article)).scalar_one() == 1
        assert c.execute(select(func.count()).select_from(Sighting)).scalar_one() == n
        n_rev = c.execute(select(func.count()).select_from(ArticleRevision)).scalar_one()
    # one stored text per distinct variant: the first committed is the article, the rest revisions
    assert 1 + n_rev == len({_variant(i) for i in range(n)})
    a.close()
