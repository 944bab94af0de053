"""The one stylesheet of the web view (served as /static/style.css, inlined in static reports)."""
from __future__ import annotations

CSS = """
:root { --fg: #1d1d1f; --muted: #666; --line: #ddd; --accent: #b3261e; --bg: #fafafa; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg);
  font: 15px/1.6 "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
        "WenQuanYi Micro Hei", system-ui, sans-serif; }
header { background: #8c1c13; color: #fff; padding: .5rem 1rem; }
header a { color: #fff; text-decoration: none; margin-right: 1.2rem; }
header a.brand { font-weight: bold; }
header form { display: inline; }
header input[type=search] { width: 16rem; padding: .2rem .4rem; }
main { max-width: 1100px; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; border-bottom: 1px solid var(--line); }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f0f0f0; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: var(--muted); }
.small { font-size: .85rem; }
.url { word-break: break-all; font-size: .85rem; }
.body p { text-indent: 2em; margin: .6rem 0; }
.article { background: #fff; padding: 1rem 1.5rem; border: 1px solid var(--line); }
dl.fields { display: grid; grid-template-columns: 12rem 1fr; gap: .2rem 1rem; }
dl.fields dt { color: var(--muted); }
dl.fields dd { margin: 0; word-break: break-word; }
mark { background: #ffe066; padding: 0 1px; }
del { background: #fdd; color: #900; }
ins { background: #dfd; color: #060; text-decoration: none; }
.diff p { margin: .3rem 0; }
.diff p.same { color: var(--muted); }
.pager { margin: 1rem 0; }
.pager a, .pager span { margin-right: .6rem; }
.columns a { margin-right: .8rem; white-space: nowrap; }
.status-ok { color: #060; } .status-empty { color: #996600; }
.status-failed, .status-timeout, .status-interrupted { color: var(--accent); font-weight: bold; }
.level-problem { color: var(--accent); font-weight: bold; } .level-warning { color: #996600; }
pre.raw { white-space: pre-wrap; word-break: break-all; background: #fff; border: 1px solid var(--line);
  padding: .5rem; font-size: .8rem; max-height: 70vh; overflow: auto; }
iframe.raw { width: 100%; height: 70vh; border: 2px dashed var(--accent); background: #fff; }
form.search input, form.search select { padding: .25rem .4rem; margin-right: .4rem; }
.hit { margin: .8rem 0; } .hit .snippet { margin: .2rem 0; }
.site-health { background: #fff; border: 1px solid var(--line); padding: .5rem 1rem; margin: 1rem 0; }
svg.chart { display: block; max-width: 100%; height: auto; }
.note { background: #fff8e1; border: 1px solid #f0d080; padding: .4rem .8rem; }
"""
