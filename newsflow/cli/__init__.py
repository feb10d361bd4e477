"""The ``newsflow`` console script: one click group wiring every subcommand.

Subcommand modules are imported lazily so that ``newsflow --help`` stays fast and no
client or model is created at import time.
"""

from __future__ import annotations

import sys

import click

from newsflow.core.errors import PipelineError
from newsflow.core.service_errors import service_error

# name -> (module, attribute, one-line help); loaded when the command is used.
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "stack": ("newsflow.stack.cli", "stack", "Run the real Kafka and Elasticsearch locally."),
    "worker": ("processors.worker.cli", "worker", "Run a Faust worker in the foreground."),
    "replay": ("producers.cli", "replay", "Replay corpus files to <ns>.raw."),
    "status": (
        "newsflow.cli.status",
        "status",
        "Drained or in flight, workers, lag, index counts.",
    ),
    "demo": ("newsflow.cli.demo", "demo", "Stack, worker, sample corpus, summary."),
    "bootstrap": ("newsflow.core.bootstrap", "bootstrap", "Create topics and index templates."),
    "deadletter": ("newsflow.cli.deadletters", "deadletter", "List dead letters; requeue them."),
    "reprocess": ("newsflow.cli.reprocess", "reprocess", "Enrich again what an upgrade changed."),
    "subscribe": ("newsflow.cli.subscriptions", "subscribe", "Alert on articles matching a query."),
    "subscriptions": (
        "newsflow.cli.subscriptions",
        "subscriptions",
        "List alert subscriptions, or load them from YAML.",
    ),
    "unsubscribe": ("newsflow.cli.subscriptions", "unsubscribe", "Remove an alert subscription."),
    "ui": ("newsflow.ui.cli", "ui", "Live page of articles, facets and alerts (no Kibana needed)."),
    "feeds": ("producers.feeds_cli", "feeds", "Poll RSS/Atom feeds, publish new items."),
    "ingest-server": ("producers.feeds_cli", "ingest_server", "HTTP endpoint: POST /articles."),
    "topics": ("newsflow.cli.topics_cli", "topics", "Train or evaluate the learned topic model."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every subcommand name, without importing any."""
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import the subcommand's module on first use."""
        if cmd_name not in _COMMANDS:
            return None
        module_name, attr, _ = _COMMANDS[cmd_name]
        module = __import__(module_name, fromlist=[attr])
        command: click.Command = getattr(module, attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List subcommands with their one-line help, without importing them."""
        rows = [(name, _COMMANDS[name][2]) for name in sorted(_COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsflow")
def cli() -> None:
    """newsflow: news articles from feeds and corpora, through Kafka and spaCy, to Elasticsearch.

    Settings come from the environment: NEWSFLOW_KAFKA_BOOTSTRAP (localhost:9092),
    NEWSFLOW_ES_URL (http://localhost:9200), NEWSFLOW_NAMESPACE (news), and more in the README.
    """


def run_cli(entry: click.Command, argv: list[str] | None = None) -> int:
    """Run a click command; errors a user can act on become one line on stderr, exit code 2.

    That covers bad arguments, bad settings, our own errors and a Kafka or Elasticsearch
    that cannot be reached or refuses the credentials; anything else is a bug and raises.
    """
    try:
        entry.main(args=argv, prog_name="newsflow", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("newsflow: aborted", err=True)
        return 130
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "newsflow"
        click.echo(f"{command}: {exc.format_message()} (see '{command} --help')", err=True)
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except PipelineError as exc:
        click.echo(f"newsflow: error: {exc}", err=True)
        return 2
    except KeyboardInterrupt:
        click.echo("newsflow: interrupted", err=True)
        return 130
    except Exception as exc:
        message = service_error(exc)
        if message is None:
            raise
        click.echo(f"newsflow: error: {message}", err=True)
        return 2
    return 0


def main() -> None:
    """Console-script entry point."""
    sys.exit(run_cli(cli))
