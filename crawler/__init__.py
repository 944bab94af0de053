"""govnews Scrapy project: spiders, link discovery, middlewares, pipelines and pure extraction."""
