"""The HTTP steps of the compose ``setup`` service (standard library only: the image has no curl).

``setup.sh`` calls it as ``python3 stackctl.py STEP``:

- ``wait-es``: wait until Elasticsearch answers as ``elastic`` with a yellow or green cluster;
- ``kibana-password``: give ``kibana_system`` the password ``KIBANA_PASSWORD`` (idempotent);
- ``wait-kibana``: wait until Kibana's status API says it is available;
- ``import-kibana FILE...``: the saved objects of FILE..., rendered for ``NEWSFLOW_NAMESPACE``,
  in one ``POST /api/saved_objects/_import?overwrite=true`` (so it can run again and again);
- ``render FILE...``: print what would be imported (no network).

The ndjson files are written for the namespace ``news``; :func:`render` moves them to another one
(ids, data-view titles, and a ``[<ns>]`` suffix on the titles people see), so that several
namespaces can share one Kibana.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

DEFAULT_NAMESPACE = "news"
ID_PREFIX = "newsflow-"
TITLED_TYPES = {"dashboard", "search", "lens", "visualization"}
STEPS = ("wait-es", "kibana-password", "wait-kibana", "import-kibana", "render")


class SetupError(RuntimeError):
    """A setup step failed; the message says which and why."""


# --- rendering (pure) -----------------------------------------------------------------------


def read_objects(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Every saved object of the ndjson files, in order (blank lines skipped)."""
    objects = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    objects.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise SetupError(f"{path}:{number}: not JSON: {exc}") from None
    return objects


def _move_id(object_id: str, namespace: str) -> str:
    old = f"{ID_PREFIX}{DEFAULT_NAMESPACE}-"
    if object_id.startswith(old):
        return f"{ID_PREFIX}{namespace}-{object_id[len(old) :]}"
    return object_id


def render(objects: list[dict[str, Any]], namespace: str) -> list[dict[str, Any]]:
    """The saved objects of namespace ``news`` moved to ``namespace`` (always a copy)."""
    rendered = json.loads(json.dumps(objects))
    if namespace == DEFAULT_NAMESPACE:
        return rendered
    for obj in rendered:
        obj["id"] = _move_id(obj["id"], namespace)
        for ref in obj.get("references", []):
            ref["id"] = _move_id(ref["id"], namespace)
        attributes = obj.get("attributes", {})
        if obj.get("type") == "index-pattern":
            for key in ("title", "name"):
                value = attributes.get(key, "")
                if value.startswith(f"{DEFAULT_NAMESPACE}-"):
                    attributes[key] = namespace + value[len(DEFAULT_NAMESPACE) :]
        elif obj.get("type") in TITLED_TYPES and "title" in attributes:
            attributes["title"] = f"{attributes['title']} [{namespace}]"
    return rendered


def to_ndjson(objects: list[dict[str, Any]]) -> bytes:
    """Objects as ndjson bytes, one compact object per line."""
    return "".join(json.dumps(obj, separators=(",", ":")) + "\n" for obj in objects).encode()


# --- HTTP -----------------------------------------------------------------------------------


def _request(
    method: str,
    url: str,
    *,
    auth: tuple[str, str],
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, Any]:
    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Authorization", f"Basic {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw or b"null")
    except json.JSONDecodeError:
        return status, raw.decode("utf-8", "replace")


def _wait(what: str, probe: Callable[[], str | None], timeout: float, every: float = 3) -> None:
    """Call ``probe`` until it returns None (ready); it returns why not otherwise."""
    deadline = time.monotonic() + timeout
    why = "no answer yet"
    while time.monotonic() < deadline:
        try:
            why = probe() or ""
        except (OSError, urllib.error.URLError) as exc:
            why = f"{type(exc).__name__}: {exc}"
        if not why:
            print(f"setup: {what} is ready", flush=True)
            return
        time.sleep(every)
    raise SetupError(f"{what} not ready after {timeout:.0f}s: {why}")


def wait_es(es_url: str, auth: tuple[str, str], timeout: float) -> None:
    """Wait for Elasticsearch to accept ``auth`` and report a yellow or green cluster."""

    def probe() -> str | None:
        status, body = _request(
            "GET", f"{es_url}/_cluster/health?wait_for_status=yellow&timeout=5s", auth=auth
        )
        return None if status == 200 else f"HTTP {status}: {body}"

    _wait("Elasticsearch", probe, timeout)


def set_kibana_password(es_url: str, auth: tuple[str, str], password: str) -> None:
    """Give the built-in ``kibana_system`` user ``password`` (the same call every time)."""
    status, body = _request(
        "POST",
        f"{es_url}/_security/user/kibana_system/_password",
        auth=auth,
        body=json.dumps({"password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    if status != 200:
        raise SetupError(f"setting the kibana_system password: HTTP {status}: {body}")
    print("setup: kibana_system password set", flush=True)


def wait_kibana(kibana_url: str, auth: tuple[str, str], timeout: float) -> None:
    """Wait for Kibana's status API to report ``available`` (or ``degraded``, still usable)."""

    def probe() -> str | None:
        status, body = _request("GET", f"{kibana_url}/api/status", auth=auth)
        overall = body.get("status", {}).get("overall", {}) if isinstance(body, dict) else {}
        level = overall.get("level")
        ready = status == 200 and level in {"available", "degraded"}
        return None if ready else f"HTTP {status}, level {level}"

    _wait("Kibana", probe, timeout)


def import_saved_objects(kibana_url: str, auth: tuple[str, str], ndjson: bytes) -> int:
    """Import ndjson in one request, overwriting; the number of objects imported."""
    boundary = f"newsflow-{uuid.uuid4().hex}"
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="newsflow.ndjson"\r\n'
        "Content-Type: application/ndjson\r\n\r\n"
    )
    body = head.encode() + ndjson + f"\r\n--{boundary}--\r\n".encode()
    status, answer = _request(
        "POST",
        f"{kibana_url}/api/saved_objects/_import?overwrite=true",
        auth=auth,
        body=body,
        headers={"kbn-xsrf": "true", "Content-Type": f"multipart/form-data; boundary={boundary}"},
        timeout=120,
    )
    if status != 200 or not isinstance(answer, dict) or not answer.get("success"):
        errors = answer.get("errors") if isinstance(answer, dict) else answer
        raise SetupError(f"Kibana import failed: HTTP {status}: {json.dumps(errors)[:2000]}")
    count = int(answer.get("successCount", 0))
    print(f"setup: {count} Kibana saved objects imported", flush=True)
    return count


# --- command line ---------------------------------------------------------------------------


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise SetupError(f"{name} is not set")
    return value


def _password(name: str) -> str:
    value = _env(name)
    if len(value) < 6:
        raise SetupError(f"{name} must have at least 6 characters (Elasticsearch's rule)")
    return value


def main(argv: list[str] | None = None) -> int:
    """Run one setup step; exit status 1 with one line on stderr when it fails."""
    parser = argparse.ArgumentParser(prog="stackctl", description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=STEPS)
    parser.add_argument("files", nargs="*", type=Path, help="ndjson files (import-kibana, render)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait (wait-*)")
    args = parser.parse_args(argv)
    try:
        namespace = _env("NEWSFLOW_NAMESPACE", DEFAULT_NAMESPACE)
        if args.step == "render":
            sys.stdout.buffer.write(to_ndjson(render(read_objects(args.files), namespace)))
            return 0
        es_url = _env("NEWSFLOW_ES_URL", "http://elasticsearch:9200").rstrip("/")
        kibana_url = _env("KIBANA_URL", "http://kibana:5601").rstrip("/")
        elastic = (_env("NEWSFLOW_ES_USERNAME", "elastic"), _password("ELASTIC_PASSWORD"))
        if args.step == "wait-es":
            wait_es(es_url, elastic, args.timeout)
        elif args.step == "kibana-password":
            set_kibana_password(es_url, elastic, _password("KIBANA_PASSWORD"))
        elif args.step == "wait-kibana":
            wait_kibana(kibana_url, elastic, args.timeout)
        else:
            if not args.files:
                raise SetupError("import-kibana needs the ndjson files")
            ndjson = to_ndjson(render(read_objects(args.files), namespace))
            import_saved_objects(kibana_url, elastic, ndjson)
    except SetupError as exc:
        print(f"setup: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
