"""Packaging glue that pyproject.toml cannot say: two directories that must stay at the top level of
the repository ship inside packages of the wheel.

* ``alembic/`` (the migrations, required at the top level) -> ``storage.migrations``, so an installed
  govnews builds and upgrades its schema without the checkout (``storage.db.upgrade_db``).
* ``sites/`` (site profiles) -> ``crawler.bundled_sites``, so ``govnews crawl demo`` works from any
  directory (``crawler.profiles`` falls back to them when the profile is not in the sites directory).

Everything else is in pyproject.toml.
"""
from setuptools import find_packages, setup

PACKAGES = find_packages(include=["common*", "crawler*", "storage*", "govnews*"])
MAPPED = {
    "storage.migrations": "alembic",
    "storage.migrations.versions": "alembic/versions",
    "crawler.bundled_sites": "sites",
}

setup(
    packages=PACKAGES + list(MAPPED),
    package_dir=MAPPED,
    package_data={
        "storage.migrations": ["*.py", "*.mako"],
        "storage.migrations.versions": ["*.py"],
        "crawler.bundled_sites": ["*.toml"],
        "crawler.extract": ["data/*.txt"],          # word lists (not a package: data files only)
        "govnews.demosite": ["seeds/*.txt", "seeds/*.md"],
        "": ["*.toml", "*.txt", "*.json", "*.html", "*.tsv", "*.md"],
    },
)
