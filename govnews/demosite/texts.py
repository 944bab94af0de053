"""Story texts for the demo site: the five bundled seed pages, cleaned, plus synthetic stories.

A :class:`Story` is one news item independent of where it is published: clean simplified
headline, date, metadata and body paragraphs.  Seed stories also keep the raw (traditional,
pinyin-glossed, noisy) lines of the seed dump so the mirror section can show them verbatim.
Synthetic stories recombine seed paragraphs under unique titles and dates; they are built so
that no two synthetic stories share more than two body paragraphs (they must not look like
near-duplicates to the archive's dedup).
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from common.clock import LOCAL_TZ
from common.text import to_simplified  # the one t2s converter; site.py imports it from here too

SEEDS_DIR = Path(__file__).resolve().parent / "seeds"

PY = "a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿɡ"
GLOSS_RE = re.compile(rf"(?<=[\u3400-\u9fff])\([{PY}]+\)")
PAIR_RE = re.compile(rf"([\u3400-\u9fff])\(([{PY}]+)\)")
BROKEN_GLOSS_RE = re.compile(rf"\?[{PY}]+\)")
# a gloss glued after a Latin letter ("力促I(mǎi)BM"): only when it carries a tone mark
TONED_GLOSS_RE = re.compile(rf"\([a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ][{PY}]*\)")
# Broken glosses as they appear in the seeds, with the characters they stand for.
BROKEN_FORMS = {"日?qǐng)?bào)": "日報", "高新?lián)?dāng)": "高新擔當"}


@cache
def _converter(config: str):
    import opencc

    return opencc.OpenCC(config)


def to_traditional(text: str) -> str:
    return _converter("s2t").convert(text)


def strip_glosses(text: str) -> str:
    """Remove pinyin glosses like ``區(qū)`` and the broken ``日?qǐng)?bào)`` forms.

    The generator's own, deliberately not ``common.text.strip_glosses``: the demo site is the test
    oracle of the crawler's gloss removal, so it must not share the code it checks."""
    for bad, good in BROKEN_FORMS.items():
        text = text.replace(bad, good)
    text = GLOSS_RE.sub("", text)
    text = TONED_GLOSS_RE.sub("", text)
    return BROKEN_GLOSS_RE.sub("", text)


def clean(text: str) -> str:
    """Seed text -> simplified text without glosses."""
    return to_simplified(strip_glosses(text)).strip()


@cache
def gloss_table() -> dict[str, str]:
    """Traditional character -> pinyin gloss, learnt from the glossed seeds."""
    table: dict[str, str] = {}
    for path in sorted(SEEDS_DIR.glob("*.txt")):
        for ch, py in PAIR_RE.findall(path.read_text(encoding="utf-8")):
            table.setdefault(ch, py)
    return table


def glossify(text_simplified: str) -> str:
    """Simplified text -> traditional with pinyin glosses glued on, like the mirror sites do."""
    table = gloss_table()
    out = []
    for ch in to_traditional(text_simplified):
        out.append(ch)
        if ch in table:
            out.append(f"({table[ch]})")
    return "".join(out)


@dataclass
class Story:
    key: str                      # "seed000" .. or "syn0007"
    title: str                    # clean simplified headline
    published_at: datetime        # aware, Asia/Shanghai
    paragraphs: list[str]         # clean simplified body
    source: str | None = None
    author: str | None = None
    author_post: str | None = None
    editor: str | None = None
    original_title: str | None = None
    summary: str | None = None
    breadcrumb: str | None = None  # raw breadcrumb of the seed page
    spam_title: str | None = None  # porn-spam <title> of the mirror page
    menu: list[str] = field(default_factory=list)  # site menu printed before the article (seed 003)
    raw_title: str | None = None   # headline as the seed shows it (traditional, maybe glossed)
    raw_meta: str | None = None    # seed's 发稿时间/来源 line
    raw_lines: list[str] = field(default_factory=list)  # seed's body lines verbatim (glossed)
    raw_tail: list[str] = field(default_factory=list)   # 编辑/相关新闻 lines verbatim
    printed_twice: bool = False


SPAM_FRAGMENTS = [
    "亚洲成av人无码不卡影片", "亚洲国产欧美不卡在线观看", "欧美性爱在线观看亚洲", "久久国产福利播放",
    "男人的天堂亚洲av无码", "欧美亚洲日韩视频在线", "最近2019年中文字幕", "亚洲乱码中文手机在线",
]

# Seeds without a date get one (001 says "昨(5)日"; 004 was written after the December 2020 plenum).
SEED_DATES = {
    "001": datetime(2016, 1, 6, 8, 40, tzinfo=LOCAL_TZ),
    "004": datetime(2021, 1, 20, 9, 0, tzinfo=LOCAL_TZ),
}
META_RE = re.compile(r"发稿时间[:：]\s*(\d{4}-\d{2}-\d{2} \d{2}:\d{2})\s+来源[:：]\s*(.+)")
SOURCE_DATE_RE = re.compile(r"[来來]源[:：]\s*(.+?)\s+日期[:：]\s*(\d{4}-\d{2}-\d{2})")


def _dt(text: str) -> datetime:
    fmt = "%Y-%m-%d %H:%M" if " " in text else "%Y-%m-%d"
    d = datetime.strptime(text, fmt)
    return d.replace(tzinfo=LOCAL_TZ)


def _parse_mirror_style(num: str, lines: list[str]) -> Story:
    """Seeds 000 and 002: spam title, breadcrumb, headline, 发稿时间 line, 摘要, 原标题, body, 编辑."""
    spam = lines[0].strip()
    i = next(k for k, ln in enumerate(lines) if ln.startswith("您现在的位置"))
    breadcrumb = lines[i].strip()
    raw_title = lines[i + 1].strip()
    raw_meta = lines[i + 2].strip()
    m = META_RE.search(strip_glosses(raw_meta))
    assert m is not None, f"seed {num}: no 发稿时间 line"
    published, source = _dt(m.group(1)), clean(m.group(2))
    summary = original_title = editor = None
    body_raw: list[str] = []
    tail: list[str] = []
    for ln in lines[i + 3:]:
        s = ln.strip()
        c = clean(s)
        if not s:
            continue
        if tail or c.startswith("相关新闻"):
            tail.append(s)
            continue
        if c.startswith("摘要"):
            summary = c.split(":", 1)[1].strip() if ":" in c else c[3:]
            continue
        if c.startswith("原标题"):
            original_title = re.split("[:：]", c, maxsplit=1)[1].strip()
            continue
        if c.startswith("编辑"):
            editor = re.split("[:：]", c, maxsplit=1)[1].strip()
            tail.append(s)
            continue
        body_raw.append(s)
    paragraphs = [clean(s) for s in body_raw if "?" not in s]  # drop the mojibake credit line
    return Story(
        key=f"seed{num}", title=clean(raw_title), published_at=published, paragraphs=paragraphs,
        source=source, editor=editor, original_title=original_title, summary=summary,
        breadcrumb=breadcrumb, spam_title=spam, raw_title=raw_title, raw_meta=raw_meta,
        raw_lines=body_raw, raw_tail=tail,
    )


def _parse_seed(num: str, text: str) -> Story:
    lines = text.splitlines()
    if num in ("000", "002"):
        return _parse_mirror_style(num, lines)
    nonempty = [ln.strip() for ln in lines if ln.strip()]
    if num == "001":
        source = clean(nonempty[0]).split(":", 1)[1]
        body = nonempty[1:]
        j = next(k for k in range(1, len(body) - 1) if body[k + 1] == body[0])
        raw_title, raw_lines = body[j], body[:j]
        return Story(
            key="seed001", title=clean(raw_title), published_at=SEED_DATES["001"],
            paragraphs=[clean(s) for s in raw_lines], source=source, raw_title=raw_title,
            raw_meta=nonempty[0], raw_lines=raw_lines, printed_twice=True,
        )
    if num == "003":
        menu = [ln[2:].strip() for ln in nonempty if ln.startswith("- ")]
        rest = [ln for ln in nonempty if not ln.startswith("- ")]
        raw_title, raw_meta, raw_lines = rest[0], rest[1], rest[2:]
        m = SOURCE_DATE_RE.search(clean(raw_meta))
        assert m is not None, "seed003: no source/date line"
        return Story(
            key="seed003", title=clean(raw_title), published_at=_dt(m.group(2)),
            paragraphs=[clean(s) for s in raw_lines], source=m.group(1).strip(), menu=menu,
            raw_title=raw_title, raw_meta=raw_meta, raw_lines=raw_lines,
        )
    if num == "004":
        raw_author = nonempty[0]
        k = next(i for i, ln in enumerate(nonempty) if clean(ln) == "作者")
        raw_lines = nonempty[1:k]
        paragraphs = [clean(s) for s in raw_lines]
        return Story(
            key="seed004", title="新都区：奋力打造成都都市圈重要增长极和强劲动力源",
            published_at=SEED_DATES["004"], paragraphs=paragraphs, source="成都日报",
            author=clean(raw_author), author_post=clean(nonempty[k + 1]),
            raw_title=None, raw_meta=raw_author, raw_lines=raw_lines, raw_tail=nonempty[k:],
        )
    raise ValueError(num)


@cache
def _seed_stories_cached() -> tuple[Story, ...]:
    out = []
    for path in sorted(SEEDS_DIR.glob("[0-9][0-9][0-9]_*.txt")):
        out.append(_parse_seed(path.name[:3], path.read_text(encoding="utf-8")))
    return tuple(out)


def seed_stories() -> list[Story]:
    """The five seed stories (fresh copies, so callers may mutate them)."""
    import copy

    return [copy.deepcopy(s) for s in _seed_stories_cached()]


# ---------------------------------------------------------------- synthetic stories
TOWNS = [
    "城关镇", "东山街道", "河西镇", "青龙乡", "白马镇", "石桥街道", "柳林镇", "新华街道", "龙泉镇", "金山乡",
    "双河镇", "永兴镇", "桃源街道", "高坪镇", "梨花乡", "大石镇", "黄土镇", "安平镇", "清溪乡", "玉河街道",
]
TOPICS = [
    "召开重点项目推进会", "开展营商环境专项督查", "推进高标准农田建设", "部署秋冬季森林防火工作",
    "召开安全生产工作会议", "推进城乡社区发展治理", "开展就业援助月活动", "举办招商引资项目签约仪式",
    "推进乡村振兴示范片建设", "召开防汛减灾工作会议", "开展政务服务“一网通办”培训", "推进老旧小区改造",
    "部署耕地保护专项整治", "召开民生实事推进会", "开展生态环境保护督察整改", "推进中小学校建设项目",
    "举办农民丰收节活动", "推进数字政府建设", "开展消防安全大检查", "召开经济运行分析会",
]
SOURCES = ["示范县融媒体中心", "示范县人民政府办公室", "绵阳日报", "示范县发展和改革局", "四川日报"]
EDITORS = ["王丽", "李娜", "张强", "刘洋", "陈静", "杨帆"]
LEAD_TEMPLATES = [
    "{date}，{town}{topic_plain}，会议听取了{n1}个重点事项进展情况汇报，研究部署下一阶段工作，"
    "明确年内完成投资{amt}亿元、新开工项目{n2}个的目标。",
    "{date}，记者从{town}获悉，今年以来该地{topic_plain}取得积极成效，累计完成投资{amt}亿元，"
    "惠及群众{n3}余人，{n2}个子项目已进入收尾阶段。",
    "{date}上午，{town}{topic_plain}。{town}党政主要负责人出席并讲话，要求各部门对照{n1}项重点任务清单，"
    "倒排工期、挂图作战，确保{n2}个项目按期完成，全年投资{amt}亿元。",
]
CLOSING_TEMPLATES = [
    "下一步，{town}将继续围绕{n1}项年度目标任务，强化要素保障，狠抓工作落实，确保各项工作取得实效。",
    "据了解，截至目前{town}已累计排查整改问题{n3}个，整改完成率达{pct}%。",
    "{town}相关负责人表示，将以此次活动为契机，建立{n1}项长效机制，推动工作常态化、制度化开展。",
]


def paragraph_pool() -> list[str]:
    """Reusable body paragraphs from the seeds (long enough to look like real text)."""
    pool: list[str] = []
    seen = set()
    for story in _seed_stories_cached():
        for p in story.paragraphs:
            if len(p) >= 40 and p not in seen:
                seen.add(p)
                pool.append(p)
    return pool


def heading_pool() -> list[str]:
    """Short sub-headings of the seeds, for synthetic titles."""
    out = []
    for story in _seed_stories_cached():
        for p in story.paragraphs:
            if (6 <= len(p) <= 24 and not re.search(r"[。，,:：()（）]", p)):
                out.append(p.replace("  ", " ").strip())
    return out


class SyntheticFactory:
    """Deterministic source of synthetic stories: ``factory.make(i, published_at)``."""

    def __init__(self, seed: int = 0):
        self.seed = seed
        self.pool = paragraph_pool()
        self.headings = heading_pool()
        self.used_titles: set[str] = set()
        self.para_users: dict[int, list[int]] = {}  # paragraph index -> story indices using it
        self.chosen: dict[int, frozenset[int]] = {}

    def _pick_paragraphs(self, rng: random.Random, i: int) -> list[int]:
        k = rng.randint(3, 5)
        best: list[int] = []
        best_overlap = 0
        good_enough = 1 if len(self.chosen) < 150 else 2
        for _attempt in range(40):
            cand = rng.sample(range(len(self.pool)), k)
            counts: dict[int, int] = {}
            for p in cand:
                for other in self.para_users.get(p, ()):
                    counts[other] = counts.get(other, 0) + 1
            worst = max(counts.values(), default=0)
            if not best or worst < best_overlap:
                best, best_overlap = cand, worst
            if worst <= good_enough:
                break
        for p in best:
            self.para_users.setdefault(p, []).append(i)
        self.chosen[i] = frozenset(best)
        return best

    def make(self, i: int, published_at: datetime) -> Story:
        rng = random.Random(f"{self.seed}:{i}")
        town = TOWNS[i % len(TOWNS)] if i < len(TOWNS) else rng.choice(TOWNS)
        topic = TOPICS[(i * 7) % len(TOPICS)] if i < len(TOPICS) else rng.choice(TOPICS)
        if rng.random() < 0.35 and self.headings:
            title = f"{town}：{rng.choice(self.headings)}"
        else:
            title = f"{town}{topic}"
        base, n = title, 2
        while title in self.used_titles:
            title = f"{base}（{n}）" if n > 1 else base
            n += 1
        self.used_titles.add(title)
        nums = dict(
            date=f"{published_at.month}月{published_at.day}日", town=town,
            topic_plain=topic.replace("“", "").replace("”", ""),
            n1=rng.randint(3, 19), n2=rng.randint(2, 30), n3=rng.randint(120, 98000),
            amt=f"{rng.uniform(0.5, 60):.2f}", pct=rng.randint(80, 100),
        )
        lead = rng.choice(LEAD_TEMPLATES).format(**nums)
        body = [self.pool[p] for p in self._pick_paragraphs(rng, i)]
        closing = rng.choice(CLOSING_TEMPLATES).format(**nums)
        return Story(
            key=f"syn{i:05d}", title=title, published_at=published_at,
            paragraphs=[lead, *body, closing], source=rng.choice(SOURCES),
            editor=rng.choice(EDITORS), summary=None,
        )


def synthetic_dates(rng: random.Random, count: int, newest: datetime) -> list[datetime]:
    """``count`` distinct datetimes going backwards from ``newest``, newest first."""
    out, t = [], newest
    for _ in range(count):
        out.append(t)
        t = t - timedelta(hours=rng.randint(5, 40), minutes=rng.randint(0, 59))
    return out
