"""Attachments in the crawl (issue 16): what arrived (:mod:`.sniff`), its text (:mod:`.text`, run in a
worker process with time and memory limits), and the Scrapy component that fetches them
(:mod:`.pipeline`). Finding them on a page is extraction's job (:mod:`crawler.extract.attachments`);
keeping them is storage's (:mod:`storage.attachments`). See docs/ATTACHMENTS.md.
"""
