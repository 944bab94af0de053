"""``govnews``: the command-line entry point (a click group; one module per command)."""
from __future__ import annotations

import importlib
import os

import click

#: (module, attribute) of every sub-command, in the order ``--help`` lists them
COMMANDS = [
    ("govnews.commands.initdb", "init_db_cmd"),
    ("govnews.commands.serve_demo", "serve_demo_cmd"),
    ("govnews.commands.sites", "sites_cmd"),
    ("govnews.commands.crawl", "crawl_cmd"),
    ("govnews.commands.schedule", "schedule_cmd"),
    ("govnews.commands.stats", "stats_cmd"),
    ("govnews.commands.export", "export_cmd"),
    ("govnews.commands.search", "search_cmd"),
    ("govnews.commands.extract", "extract_cmd"),
    ("govnews.commands.reextract", "reextract_cmd"),
    ("govnews.commands.duplicates", "duplicates_cmd"),
    ("govnews.commands.enqueue", "enqueue_cmd"),
    ("govnews.commands.worker", "worker_cmd"),
    ("govnews.commands.replay", "replay_cmd"),
    ("govnews.commands.links", "links_cmd"),          # issue 13 (DISCOVERY)
    ("govnews.commands.discover", "discover_cmd"),    # issue 13 (DISCOVERY)
    ("govnews.commands.attachments", "attachments_cmd"),   # issue 16 (ATTACH)
    ("govnews.commands.serve", "serve_cmd"),
    ("govnews.commands.feed", "feed_cmd"),
    ("govnews.commands.report", "report_cmd"),
]


class GovnewsGroup(click.Group):
    """Errors a person can act on (database, profile, file) are one line and exit 1; ``--debug``
    (or ``$GOVNEWS_DEBUG=1``) shows the traceback instead."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            if (ctx.obj or {}).get("debug") or os.environ.get("GOVNEWS_DEBUG"):
                raise
            from govnews.commands import user_error

            line = user_error(exc)
            if line is None:
                raise
            raise click.ClickException(line + " (--debug shows the traceback)") from None


@click.group(cls=GovnewsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="govnews")
@click.option("--debug", is_flag=True, envvar="GOVNEWS_DEBUG", help="Show tracebacks instead of one-line errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """govnews: crawl and archive Chinese regional government news.

    \b
    Quick start (from any directory):
      govnews init-db                       # build the archive (alembic upgrade head)
      govnews serve-demo &                  # a demo government site on 127.0.0.1:8765
      govnews crawl demo                    # crawl it into the archive
      govnews stats                         # what was archived

    Every command reads the database URL from --db or $GOVNEWS_DB_URL (default: the SQLite file
    data/archive.db in the govnews home: $GOVNEWS_HOME, else the checkout holding scrapy.cfg
    around the current directory, else ~/.local/share/govnews). Site profiles: --sites or
    $GOVNEWS_SITES_DIR, default <home>/sites, then the profiles bundled with govnews.
    Errors are one line and exit 1 (usage errors exit 2); `govnews --debug COMMAND` shows tracebacks.
    """
    ctx.obj = {"debug": debug}


for module_name, attr in COMMANDS:
    main.add_command(getattr(importlib.import_module(module_name), attr))


if __name__ == "__main__":
    main()
