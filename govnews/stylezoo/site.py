# ruff: noqa: E501  (HTML templates: long literal lines are the markup)
"""A generated site of one zoo style: content model, shared chrome and the route table."""
from __future__ import annotations

import hashlib
import random
import re
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from common.clock import LOCAL_TZ
from govnews.demosite.texts import TOWNS, SyntheticFactory, synthetic_dates

from .styles import (
    FOOTER_STATICS,
    FRIEND_OFFSITE,
    FRIEND_STATICS,
    MENU_STATICS,
    STATIC_TEXT,
    STYLES,
    Attachment,
    Style,
    ZooArticle,
    ZooColumn,
    e,
)

SHANGHAI = LOCAL_TZ
NEWEST = datetime(2024, 10, 31, 16, 30, tzinfo=SHANGHAI)
STATIC_KEYS = [k for k, _ in MENU_STATICS + FOOTER_STATICS + FRIEND_STATICS]
STATIC_NAMES = dict(MENU_STATICS + FOOTER_STATICS + FRIEND_STATICS)

NOTICE_THINGS = [
    ("2024年秋冬季森林草原防灭火", "秋冬季森林草原防灭火工作方案"), ("全县安全生产大检查", "安全生产大检查实施方案"),
    ("2024年度政府信息公开工作年度报告编制", "政府信息公开工作年度报告编制要求"),
    ("国庆节期间值班值守", "国庆节期间值班安排表"), ("第五次全国经济普查入户登记", "经济普查入户登记工作细则"),
    ("2025年度县级财政预算编制", "县级部门预算编制说明"), ("城乡居民医疗保险集中参保缴费", "城乡居民医保参保缴费指南"),
    ("冬季征兵体检", "冬季征兵体检时间安排"), ("政务服务事项清单动态调整", "政务服务事项调整目录"),
    ("防范电信网络诈骗宣传月活动", "反诈宣传月活动方案"), ("高标准农田建设项目验收", "高标准农田项目验收办法"),
    ("重点项目建设“百日攻坚”行动", "百日攻坚行动任务清单"),
]
CONTACTS = ["王老师", "李科长", "张同志", "刘主任", "陈同志", "杨科长"]
BRIEF_TOPICS = [
    "秸秆禁烧", "冬春农田水利", "食品安全", "消防安全", "文明城市创建", "人居环境整治", "农民工工资支付",
    "校园周边环境", "耕地保护", "河长制巡河",
]

PDF_BYTES = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
DOCX_BYTES = b"PK\x05\x06" + b"\x00" * 18
GIF_BYTES = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
CTYPES = {"pdf": "application/pdf", "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "doc": "application/msword", "xls": "application/vnd.ms-excel"}

HREF_RE = re.compile(r"""(?<=\s)href\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
FAKE_BASE = "http://127.0.0.1"


def normalize(path_and_query: str) -> str:
    """The route key of a request target: path as given, query arguments sorted (what the crawler's
    canonical URLs do), fragment dropped."""
    parts = urlsplit(path_and_query)
    path = parts.path or "/"
    if not parts.query:
        return path
    return path + "?" + urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))


class ZooSite:
    """One generated site of a zoo style.

    ``n_articles`` articles (news, ~100-character briefs, two-sentence notices with an attachment)
    spread over the style's three columns, newest first; ``seed`` makes the content deterministic.
    """

    def __init__(self, style: str, n_articles: int = 30, seed: int = 0, per_page: int | None = None):
        if style not in STYLES:
            raise KeyError(f"unknown style {style!r}; known: {', '.join(STYLES)}")
        if n_articles < 6:
            raise ValueError("a zoo site needs at least 6 articles (every column holds news, briefs or notices)")
        self.style_name = style
        self.style: Style = STYLES[style]()
        self.n_articles = n_articles
        self.seed = seed
        self.per_page = per_page or (4 if n_articles <= 60 else 15)
        self.columns: tuple[ZooColumn, ...] = self.style.columns
        self._rng = random.Random(f"zoo:{style}:{seed}")
        self.articles: list[ZooArticle] = self._make_articles()
        self._by_col = {c.key: [a for a in self.articles if a.column == c] for c in self.columns}
        self.style.npages = {c.key: self.style.list_pages_count(self, c) for c in self.columns}
        for a in self.articles:
            a.path = self.style.article_path(a)
            if a.kind == "notice":
                k, ext = 1, ("pdf" if a.serial % 2 == 0 else "docx")
                a.attachments.append(Attachment(self.style.attachment_path(a, k, ext),
                                                f"{a.paragraphs[-1].split('《')[-1].split('》')[0]}.{ext}", CTYPES[ext]))
        self._routes: dict[str, tuple[str, bytes]] = {}
        self._html: dict[str, str] = {}
        self._build()

    # ------------------------------------------------------------------ content
    def _make_articles(self) -> list[ZooArticle]:
        n = self.n_articles
        dates = synthetic_dates(self._rng, n, NEWEST)
        index = list(STYLES).index(self.style_name)
        factory = SyntheticFactory(self.seed * 100 + index)
        st = self.style
        out: list[ZooArticle] = []
        n_news = n_brief = n_notice = 0
        for i, dt in enumerate(dates):
            col = self.columns[i % len(self.columns)]
            hexid = hashlib.sha1(f"{self.style_name}:{self.seed}:{i}".encode()).hexdigest()
            aid = st.id_base + (n - 1 - i) * st.id_step + 1
            if col.kind == "notice":
                thing, doc = NOTICE_THINGS[n_notice % len(NOTICE_THINGS)]
                rnd = n_notice // len(NOTICE_THINGS)
                title = f"关于做好{thing}工作的通知" + (f"（{rnd + 1}）" if rnd else "")
                contact = CONTACTS[n_notice % len(CONTACTS)]
                paras = [f"各乡镇人民政府、街道办事处，县级各部门：为切实做好{thing}工作，现将《{doc}》印发给你们，"
                         f"请结合实际认真贯彻落实。",
                         f"具体事项详见附件，联系人：{contact}，电话：0816-12345{(n_notice * 37) % 100:02d}。"
                         f"附件：《{doc}》"]
                out.append(ZooArticle(i, aid, col, title, dt, paras, "示范县人民政府办公室", "notice", hexid))
                n_notice += 1
            elif col == self.columns[1] and (i // len(self.columns)) % 3 == 1:
                town = TOWNS[(n_brief * 3 + index) % len(TOWNS)]
                topic = BRIEF_TOPICS[n_brief % len(BRIEF_TOPICS)]
                title = f"{town}开展{topic}专项检查"
                if n_brief >= len(BRIEF_TOPICS):
                    title += f"（{n_brief // len(BRIEF_TOPICS) + 1}）"
                paras = [f"{dt.month}月{dt.day}日，{town}组织{3 + n_brief % 7}个工作组开展{topic}专项检查，"
                         f"共走访点位{12 + (n_brief * 5) % 40}处，现场督促整改问题{2 + n_brief % 9}个，逐一反馈并提出整改意见。"
                         f"下一步，{town}将建立问题台账，实行销号管理，确保问题整改全部到位。"]
                out.append(ZooArticle(i, aid, col, title, dt, paras, "示范县融媒体中心", "brief", hexid))
                n_brief += 1
            else:
                story = factory.make(n_news, dt)
                out.append(ZooArticle(i, aid, col, story.title, dt, list(story.paragraphs),
                                      story.source or "示范县融媒体中心", "news", hexid))
                n_news += 1
        return out

    def column_articles(self, col: ZooColumn) -> list[ZooArticle]:
        return self._by_col[col.key]

    def page_articles(self, col: ZooColumn, page: int) -> list[ZooArticle]:
        arts = self._by_col[col.key]
        return arts[(page - 1) * self.per_page: page * self.per_page]

    # ------------------------------------------------------------------ chrome
    def link(self, st: Style, here: str, to: str) -> str:
        return e(st.link(here, to))

    def nav(self, st: Style, here: str) -> str:
        items = [(st.home_path(), "首页")] + [(st.list_path(c, 1), c.name) for c in self.columns]
        items += [(st.static_path(k), t) for k, t in MENU_STATICS]
        lis = "".join(f'<li><a href="{self.link(st, here, h)}">{e(t)}</a></li>' for h, t in items)
        return f'<div class="nav"><ul class="nav-list clearfix">{lis}</ul></div>\n'

    def breadcrumb(self, st: Style, here: str, col: ZooColumn | None, article: bool) -> str:
        if col is None:
            return ""
        s = (f'<div class="position">当前位置：<a href="{self.link(st, here, st.home_path())}">首页</a> &gt; '
             f'<a href="{self.link(st, here, st.list_path(col, 1))}">{e(col.name)}</a>')
        return s + (" &gt; 正文" if article else "") + "</div>\n"

    def column_menu(self, st: Style, here: str, col: ZooColumn | None) -> str:
        lis = "".join(f'<li{" class=on" if c == col else ""}><a href="{self.link(st, here, st.list_path(c, 1))}">'
                      f"{e(c.name)}</a></li>" for c in self.columns)
        lis += "".join(f'<li><a href="{self.link(st, here, st.static_path(k))}">{e(t)}</a></li>'
                       for k, t in MENU_STATICS[:3])
        return f'<div class="left-menu"><h2>新闻中心</h2><ul>{lis}</ul></div>\n'

    def hot_articles(self) -> list[ZooArticle]:
        ranked = sorted(self.articles, key=lambda a: ((a.id * 7919) % 101, a.serial))
        return ranked[:5]

    def hot_box(self, st: Style, here: str) -> str:
        lis = "".join(f'<li><em>{k + 1}</em><a href="{self.link(st, here, a.path)}" title="{e(a.title)}">'
                      f"{e(self.trunc(a.title, 16))}</a></li>" for k, a in enumerate(self.hot_articles()))
        return f'<div class="side-box hot"><div class="hd"><h3>热点排行</h3></div><ol class="rank">{lis}</ol></div>\n'

    def friend_box(self, st: Style, here: str) -> str:
        opts = "".join(f'<option value="{e(u)}">{e(t)}</option>' for u, t in FRIEND_OFFSITE)
        lis = "".join(f'<li><a href="{e(u)}" target="_blank">{e(t)}</a></li>' for u, t in FRIEND_OFFSITE[:3])
        lis += "".join(f'<li><a href="{self.link(st, here, st.static_path(k))}" target="_blank">{e(t)}</a></li>'
                       for k, t in FRIEND_STATICS)
        return (f'<div class="yqlj"><span class="yqlj-tit">友情链接：</span><select onchange="window.open(this.value)">'
                f'<option value="">--政府网站--</option>{opts}</select><ul class="links">{lis}</ul></div>\n')

    def footer(self, st: Style, here: str) -> str:
        links = " | ".join(f'<a href="{self.link(st, here, st.static_path(k))}">{e(t)}</a>' for k, t in FOOTER_STATICS)
        return (f'<div class="footer"><p>{links} | <a href="javascript:void(0);">使用帮助</a></p>'
                f"<p>主办：示范县人民政府办公室　承办：示范县大数据发展中心　版权所有 &copy; 2024</p>"
                '<p>网站标识码：5107990099　<a href="http://beian.miit.gov.cn/" target="_blank">蜀ICP备05012345号-2</a>　'
                '<a href="javascript:void(0);">川公网安备 51079902000199号</a></p>'
                '<p><span id="_ideConac"><img src="/images/red.png" alt="党政机关"></span></p></div>\n')

    def chrome(self, st: Style, here: str, title: str, body: str, col: ZooColumn | None = None, *,
               extra_head: str = "", article: ZooArticle | None = None) -> str:
        cm = (f'<meta http-equiv="Content-Type" content="text/html; charset={st.meta_charset}" />\n'
              if st.meta_charset else "")
        return (
            "<!DOCTYPE html>\n<html>\n<head>\n" + cm
            + f"<title>{e(title)}</title>\n"
            + f'<meta name="keywords" content="{e(st.title)},政务公开,政务服务">\n{extra_head}'
            + '<link rel="stylesheet" type="text/css" href="/css/style.css">\n'
            + '<script type="text/javascript" src="/js/jquery.min.js"></script>\n</head>\n<body>\n'
            + '<div class="topbar"><span class="fl">欢迎访问示范县人民政府门户网站</span><span class="fr">'
            + '<a href="javascript:void(0);">无障碍浏览</a> | <a href="javascript:void(0);">繁體版</a> | '
            + '<a href="javascript:void(0);">长者模式</a> | <a href="javascript:void(0);" onclick="AddFavorite()">加入收藏</a></span></div>\n'
            + f'<div class="header"><a class="logo" href="{self.link(st, here, st.home_path())}"><img src="/images/logo.png" '
            + f'alt="{e(st.title)}"></a><form class="search" action="javascript:void(0);"><input type="text" name="q" '
            + 'placeholder="请输入关键词"><button type="button">搜索</button></form></div>\n'
            + self.nav(st, here) + self.breadcrumb(st, here, col, article is not None)
            + f'<div class="main clearfix">{body}</div>\n' + self.friend_box(st, here) + self.footer(st, here)
            + "</body>\n</html>\n")

    @staticmethod
    def trunc(text: str, n: int) -> str:
        return text if len(text) <= n else text[: n - 1] + "…"

    def prev_next(self, st: Style, here: str, art: ZooArticle) -> str:
        arts = self._by_col[art.column.key]
        k = arts.index(art)
        prev = arts[k - 1] if k > 0 else None
        nxt = arts[k + 1] if k + 1 < len(arts) else None
        p = f'<a href="{self.link(st, here, prev.path)}">{e(prev.title)}</a>' if prev else "没有了"
        n = f'<a href="{self.link(st, here, nxt.path)}">{e(nxt.title)}</a>' if nxt else "没有了"
        return (f'<div class="context"><ul><li>上一篇：{p}</li><li>下一篇：{n}</li></ul>'
                '<a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></div>\n')

    # ------------------------------------------------------------------ pages
    def home_html(self) -> str:
        st, here = self.style, self.style.home_path()
        pics = [a for a in self.articles if a.kind == "news"][:4]
        slides = "".join(
            f'<li><a href="{self.link(st, here, a.path)}" target="_blank"><img src="/images/pic{k + 1}.jpg" '
            f'alt="{e(a.title)}"></a><p><a href="{self.link(st, here, a.path)}">{e(self.trunc(a.title, 20))}</a></p></li>'
            for k, a in enumerate(pics))
        body = f'<div class="slide" id="slide"><div class="hd"><h3>图片新闻</h3></div><ul class="pic">{slides}</ul></div>\n'
        for col in self.columns:
            items = "".join(
                f'<li><a href="{self.link(st, here, a.path)}" target="_blank" title="{e(a.title)}">'
                f"{e(self.trunc(a.title, 24))}</a><span>{a.published:%m-%d}</span></li>"
                for a in self._by_col[col.key][:6])
            body += (f'<div class="index-box"><div class="hd"><h3>{e(col.name)}</h3><a class="more" '
                     f'href="{self.link(st, here, st.list_path(col, 1))}">更多&gt;&gt;</a></div><ul>{items}</ul></div>\n')
        body += self.hot_box(st, here)
        body += ('<div class="zt"><a href="javascript:void(0);"><img src="/images/zt1.jpg" alt="学习贯彻党的二十届三中全会精神"></a>'
                 f'<a href="{self.link(st, here, st.static_path("zwfw"))}"><img src="/images/zt2.jpg" alt="政务服务"></a></div>\n')
        return self.chrome(st, here, st.title, body)

    def static_html(self, key: str) -> str:
        st = self.style
        here = st.static_path(key)
        name = STATIC_NAMES[key]
        text = f"<p>{e(STATIC_TEXT[key])}</p>"
        if key == "wzdt":
            targets = [(st.list_path(c, 1), c.name) for c in self.columns] + [(st.static_path(k), t) for k, t in MENU_STATICS]
            text += "<ul class=\"sitemap\">" + "".join(
                f'<li><a href="{self.link(st, here, h)}">{e(t)}</a></li>' for h, t in targets) + "</ul>"
        body = f'<div class="static-page"><h2 class="page-tit">{e(name)}</h2>{text}</div>' + self.column_menu(st, here, None)
        return self.chrome(st, here, f"{name}-{st.title}", body)

    def _encode(self, html: str) -> tuple[str, bytes]:
        st = self.style
        ctype = f"text/html; charset={st.meta_charset or st.encoding}" if st.header_charset else "text/html"
        return ctype, html.encode(st.encoding, errors="xmlcharrefreplace")

    def _add(self, path: str, html: str) -> None:
        key = normalize(path)
        self._html[key] = html
        self._routes[key] = self._encode(html)

    def _build(self) -> None:
        st = self.style
        home = self.home_html()
        self._add(st.home_path(), home)
        if st.home_path() != "/":
            self._routes["/"] = self._encode(home)
        self.list_urls: dict[str, list[str]] = {}
        for col in self.columns:
            urls = []
            for page in range(1, self.style.npages[col.key] + 1):
                path = st.list_path(col, page)
                urls.append(path)
                html = st.list_page(self, col, page)
                self._add(path, html)
                for alias in st.list_aliases(col, page):
                    self._add(alias, html)
            self.list_urls[col.key] = urls
        self.api_urls: list[str] = []
        if hasattr(st, "api_path"):
            for col in self.columns:
                pages = max(1, -(-len(self._by_col[col.key]) // self.per_page))
                self.api_urls += [st.api_path(col, p) for p in range(1, pages + 1)]
        for a in self.articles:
            self._add(a.path, st.article_page(self, a))
            for att in a.attachments:
                self._routes[normalize(att.path)] = (att.ctype, PDF_BYTES if att.path.endswith(".pdf") else DOCX_BYTES)
        for key in STATIC_KEYS:
            self._add(st.static_path(key), self.static_html(key))
        self._routes["/robots.txt"] = ("text/plain", b"User-agent: *\nAllow: /\n")
        for k, v in st.extra_routes(self).items():
            self._routes[normalize(k)] = v
        self._collect_links()

    def _collect_links(self) -> None:
        article_keys = {normalize(a.path) for a in self.articles}
        attach_keys = {normalize(t.path) for a in self.articles for t in a.attachments}
        onsite: set[str] = set()
        offsite: set[str] = set()
        for page_key, html in self._html.items():
            base = FAKE_BASE + page_key
            for m in HREF_RE.finditer(html):
                href = (m.group(1) if m.group(1) is not None else m.group(2)).replace("&amp;", "&").strip()
                if not href or href.startswith(("javascript:", "#", "mailto:")) or "'" in href:
                    continue
                absu = urljoin(base, href)
                parts = urlsplit(absu)
                if parts.netloc != "127.0.0.1":
                    offsite.add(absu)
                    continue
                if href.endswith(".css"):
                    continue
                onsite.add(normalize(parts.path + ("?" + parts.query if parts.query else "")))
        pages = {normalize(p) for urls in self.list_urls.values() for p in urls} | {normalize(p) for p in self.api_urls}
        self._non_article = sorted((onsite | pages) - article_keys - attach_keys)
        self.offsite_links = sorted(offsite)
        self.attachment_links = sorted(t.path for a in self.articles for t in a.attachments)
        self.linked_article_keys = onsite & article_keys

    # ------------------------------------------------------------------ public API
    @property
    def routes(self) -> dict[str, tuple[str, bytes]]:
        """Static routes: normalized path+query -> (content type, bytes).  Dynamic answers (the
        JSON API, assets) come from :meth:`response`."""
        return self._routes

    @property
    def home_path(self) -> str:
        return self.style.home_path()

    @property
    def expected_articles(self) -> list[str]:
        """Root-relative path+query of every article page, newest first (as the site links them)."""
        return [a.path for a in self.articles]

    @property
    def short_articles(self) -> set[str]:
        """The short ones among :attr:`expected_articles` (briefs and notices)."""
        return {a.path for a in self.articles if a.short}

    @property
    def article_info(self) -> dict[str, ZooArticle]:
        return {a.path: a for a in self.articles}

    @property
    def non_article_links(self) -> list[str]:
        """On-site URLs that are not articles: home, column and menu pages, friend and footer links,
        every list page (including those only scripts reach) and JSON API pages (normalized)."""
        return list(self._non_article)

    def response(self, path_and_query: str) -> tuple[int, str, bytes]:
        key = normalize(path_and_query)
        hit = self._routes.get(key)
        if hit is not None:
            return 200, hit[0], hit[1]
        parts = urlsplit(path_and_query)
        dyn = self.style.dynamic(self, parts.path, parse_qsl(parts.query, keep_blank_values=True))
        if dyn is not None:
            return dyn
        low = parts.path.lower()
        if low.endswith((".jpg", ".png", ".gif", ".ico")):
            return 200, "image/gif", GIF_BYTES
        if low.endswith(".css"):
            return 200, "text/css", b"body{font-size:14px}\n"
        if low.endswith(".js"):
            return 200, "application/javascript", b"/* */\n"
        return 404, "text/html; charset=utf-8", "<html><body><h1>404 页面不存在</h1></body></html>".encode()

    def describe(self) -> dict:
        st = self.style
        return {"style": self.style_name, "family": st.family, "encoding": st.encoding,
                "charset_in_header": st.header_charset, "home": self.home_path,
                "list_first_pages": [st.list_path(c, 1) for c in self.columns],
                "article_example": self.articles[0].path, "paging": st.paging,
                "articles": len(self.articles), "short": len(self.short_articles)}
