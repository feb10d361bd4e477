"""The ``newsflow`` console script: one click group wiring every subcommand.

Subcommand modules are imported lazily so that ``newsflow --help`` stays fast and no
client or model is created at import time.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import click

from newsflow.errors import PipelineError

# name -> (module, attribute, one-line help); loaded when the command is used.
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "stack": ("newsflow.stack.cli", "stack", "Run the real Kafka and Elasticsearch locally."),
    "worker": ("processors.cli", "worker", "Run a Faust worker in the foreground."),
    "replay": ("producers.cli", "replay", "Replay corpus files to <ns>.raw."),
    "status": ("newsflow.status", "status", "Drained or in flight, workers, lag, index counts."),
    "demo": ("newsflow.demo", "demo", "Stack, worker, sample corpus, summary."),
    "bootstrap": ("newsflow.bootstrap", "bootstrap", "Create topics and index templates."),
    "deadletter": ("newsflow.deadletters", "deadletter", "List dead letters; requeue them."),
    "reprocess": ("newsflow.reprocess", "reprocess", "Enrich again what an upgrade changed."),
    "subscribe": ("newsflow.subscriptions", "subscribe", "Alert on articles matching a query."),
    "subscriptions": (
        "newsflow.subscriptions",
        "subscriptions",
        "List alert subscriptions, or load them from YAML.",
    ),
    "unsubscribe": ("newsflow.subscriptions", "unsubscribe", "Remove an alert subscription."),
    "ui": ("newsflow.ui.cli", "ui", "Live page of articles, facets and alerts (no Kibana needed)."),
    "feeds": ("producers.feeds_cli", "feeds", "Poll RSS/Atom feeds, publish new items."),
    "ingest-server": ("producers.feeds_cli", "ingest_server", "HTTP endpoint: POST /articles."),
    "topics": ("newsflow.topics_cli", "topics", "Train or evaluate the learned topic model."),
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


def service_error(exc: BaseException) -> str | None:
    """One line for a Kafka or Elasticsearch that is unreachable or refuses us, else None."""
    return unreachable(exc) or _refused(exc)


def _addresses() -> tuple[str, str]:
    """Where Kafka and Elasticsearch are expected (no credentials in either)."""
    from newsflow.settings import load_settings

    try:
        settings = load_settings()
    except PipelineError:
        return "the configured servers", "the configured URL"
    return settings.kafka_bootstrap, settings.es_url


def unreachable(exc: BaseException) -> str | None:
    """One line for a Kafka or Elasticsearch that cannot be reached (yet), else None.

    These are the errors worth waiting out: down, refusing connections, timing out, or an
    Elasticsearch answering 503 while it starts. Refused credentials are not: waiting would
    not change them.
    """
    from elastic_transport import ConnectionError as EsConnectionError
    from elastic_transport import ConnectionTimeout, TlsError
    from elasticsearch import ApiError
    from kafka import errors as kafka_errors

    kafka_at, es_at = _addresses()
    if isinstance(exc, TlsError):
        return None  # an untrusted certificate stays untrusted: not worth waiting out
    # A refusal kafka-python only retried (a wrong password, CA or protocol) is named by
    # newsflow.kafka_check before any client connects; what is left here is a real timeout.
    if isinstance(exc, kafka_errors.KafkaConnectionError | kafka_errors.KafkaTimeoutError):
        return f"cannot reach Kafka at {kafka_at} ({_short(exc)})"
    if isinstance(exc, EsConnectionError | ConnectionTimeout):
        return f"cannot reach Elasticsearch at {es_at} ({_short(exc)})"
    if isinstance(exc, ApiError) and exc.meta.status in (502, 503, 504):
        return f"Elasticsearch at {es_at} is not ready (HTTP {exc.meta.status})"
    return None


def _refused(exc: BaseException) -> str | None:
    """One line for a Kafka or Elasticsearch that refuses us (credentials, TLS, ACLs)."""
    from kafka import errors as kafka_errors

    from newsflow.settings import Settings, load_settings

    settings: Settings | None
    try:
        settings = load_settings()
    except PipelineError:
        settings = None
    kafka_at, _ = _addresses()
    if isinstance(exc, kafka_errors.SaslAuthenticationFailedError):
        return f"Kafka at {kafka_at} refused the credentials ({_short(exc)})"
    if isinstance(exc, kafka_errors.AuthorizationError):
        return kafka_denial(exc, kafka_at, settings.kafka_sasl_username if settings else None)
    return es_error(exc, settings)


def es_error(exc: BaseException, settings: Any) -> str | None:
    """One line for an Elasticsearch that is untrusted or refuses us, else None."""
    from elastic_transport import TlsError
    from elasticsearch import ApiError, AuthenticationException, AuthorizationException

    at = settings.es_url if settings is not None else "the configured URL"
    if isinstance(exc, TlsError):
        return _es_tls(str(exc), at, settings)
    if isinstance(exc, AuthenticationException):
        hint = _es_auth_hint(settings)
        return f"Elasticsearch at {at} refused the credentials (HTTP 401): {hint}"
    if isinstance(exc, AuthorizationException):
        return f"Elasticsearch at {at} does not allow this (HTTP 403)"
    if isinstance(exc, ApiError) and not isinstance(exc.body, dict):
        # Not an Elasticsearch error: a proxy's page (plain HTTP to its HTTPS port, ...).
        return (
            f"{at} answered HTTP {exc.status_code} with a page that is not Elasticsearch's: "
            "check NEWSFLOW_ES_URL (http or https, host, port)"
        )
    return None


def _es_auth_hint(settings: Any) -> str:
    if settings is None:
        return "check the NEWSFLOW_ES_* credentials"
    if settings.es_api_key is not None:
        return "check NEWSFLOW_ES_API_KEY"
    if settings.es_username is not None:
        return f"check NEWSFLOW_ES_PASSWORD (user {settings.es_username!r})"
    return "set NEWSFLOW_ES_API_KEY, or NEWSFLOW_ES_USERNAME and NEWSFLOW_ES_PASSWORD"


def _es_tls(text: str, at: str, settings: Any) -> str:
    """Which TLS check failed, and the setting behind it."""
    if "Fingerprints did not match" in text:
        got = re.search(r'got "([0-9a-fA-F]+)', text)
        seen = f" (it is {got.group(1)})" if got else ""
        return (
            f"the certificate of {at} does not match NEWSFLOW_ES_SSL_FINGERPRINT{seen}: "
            "check NEWSFLOW_ES_SSL_FINGERPRINT"
        )
    if "CERTIFICATE_VERIFY_FAILED" in text and "match" in text:  # the host name
        return f"the certificate of {at} is not for its host: check NEWSFLOW_ES_URL"
    if "CERTIFICATE_VERIFY_FAILED" in text:
        if settings is not None and settings.es_ca_certs is not None:
            return (
                f"the certificate of {at} is not signed by NEWSFLOW_ES_CA_CERTS: "
                "check NEWSFLOW_ES_CA_CERTS"
            )
        return (
            f"the certificate of {at} is not signed by a CA this machine trusts: set "
            "NEWSFLOW_ES_CA_CERTS (or NEWSFLOW_ES_SSL_FINGERPRINT)"
        )
    return f"TLS with Elasticsearch at {at} failed ({_short(Exception(text))})"


_DENIED_KINDS = {
    "TopicAuthorizationFailedError": "topic",
    "GroupAuthorizationFailedError": "consumer group",
    "ClusterAuthorizationFailedError": "cluster",
    "TransactionalIdAuthorizationFailedError": "transactional id",
}
_AUTHORIZATION_CODES = {"29", "30", "31", "53"}  # topic, group, cluster, transactional id


def denied_resources(exc: BaseException) -> list[str]:
    """The resources an authorization error names (the request's own repr left out)."""
    text = str(exc)
    _, answered, response = text.partition("failed with response")
    if answered:  # an admin request: the results that carry an authorization error
        results = re.findall(r"name='([^']+)'[^()]*?error_code=(\d+)", response)
        return sorted({name for name, code in results if code in _AUTHORIZATION_CODES})
    found = re.findall(r"\b(?:TOPIC|GROUP)/([^\s:,)]+)", text)
    if not found:  # a client error: its arguments are the names
        found = [a for a in getattr(exc, "args", ()) if isinstance(a, str) and " " not in a]
    return sorted(set(found))


def kafka_denial(exc: BaseException, kafka_at: str, user: str | None) -> str:
    """One line naming who was denied what: the fix is an ACL, or the namespace."""
    kind = _DENIED_KINDS.get(type(exc).__name__, "resource")
    names = denied_resources(exc)
    what = f"{kind} {names[0]}" if names else f"a {kind}"
    if len(names) > 1:
        what += f" (and {len(names) - 1} more)"
    who = f"user {user!r}" if user else "this client"
    return (
        f"Kafka at {kafka_at} does not allow {who} on {what} ({type(exc).__name__}): "
        "check its ACLs (docs/OPERATIONS.md) or NEWSFLOW_NAMESPACE"
    )


def _short(exc: BaseException) -> str:
    """The gist of a client error: its errno line when it has one, else its first line."""
    text = str(exc)
    errno = re.search(r"\[Errno -?\d+\] [^)\]'\"]+", text)
    if errno:
        return errno.group(0).strip()
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first[:200]


def main() -> None:
    """Console-script entry point."""
    sys.exit(run_cli(cli))
