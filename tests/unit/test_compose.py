"""The Docker path (docker-compose.yml, Dockerfile, .env.example, deploy/compose/) without Docker.

No engine and no network: the compose file is parsed and interpolated here the way Compose does
it, every image must be pinned, every variable provided and documented, every command the
containers run must exist in the repository, and the setup steps are run against a fake HTTP
layer. When the `docker compose` plugin is installed, its own `config -q` is run too.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from newsflow.cli import _COMMANDS
from newsflow.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
DOCS = ROOT / "docs" / "DOCKER.md"
SETUP_SH = ROOT / "deploy" / "compose" / "setup.sh"
STACKCTL = ROOT / "deploy" / "compose" / "stackctl.py"
APP_DIR = "/app"  # WORKDIR of the Dockerfile: the repository root inside the image

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR:+alt}, $VAR; $$ is an escape.
VARIABLE = re.compile(
    r"(?<!\$)\$(?:\{(?P<braced>[A-Za-z_]\w*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}|(?P<bare>[A-Za-z_]\w*))"
)


# --- helpers ----------------------------------------------------------------------------------


def env_example() -> dict[str, str]:
    """The variables of .env.example (KEY=value lines)."""
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f".env.example: not KEY=value: {line!r}"
            values[key.strip()] = value.strip()
    return values


def compose_text() -> str:
    return COMPOSE.read_text(encoding="utf-8")


def compose_variables() -> dict[str, list[tuple[str | None, str | None]]]:
    """Each variable the compose file interpolates, with its (operator, argument) uses."""
    found: dict[str, list[tuple[str | None, str | None]]] = {}
    for line in compose_text().splitlines():
        if line.lstrip().startswith("#"):
            continue
        for match in VARIABLE.finditer(line):
            name = match.group("braced") or match.group("bare")
            found.setdefault(name, []).append((match.group("op"), match.group("arg")))
    return found


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose interpolation of a parsed value, with ``env`` as the environment."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        current = env.get(name)
        if op in (":-", "-"):
            unset = current is None or (op == ":-" and current == "")
            return arg if unset else str(current)
        if op in (":?", "?"):
            if current is None or (op == ":?" and current == ""):
                raise KeyError(f"required variable {name} is missing: {arg}")
            return current
        if op in (":+", "+"):
            return arg if current else ""
        return current or ""

    return VARIABLE.sub(substitute, value).replace("$$", "$")


def load_compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    """The compose file parsed (YAML merge keys resolved) and interpolated with ``env``."""
    data = yaml.safe_load(compose_text())
    assert isinstance(data, dict)
    result: dict[str, Any] = interpolate(data, env_example() if env is None else env)
    return result


def services() -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = load_compose()["services"]
    return result


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def argv(value: Any) -> list[str]:
    return list(value) if isinstance(value, list) else str(value).split()


def in_repo(container_path: str) -> Path:
    """The repository file behind a path inside the app image (WORKDIR /app)."""
    path = Path(container_path)
    if path.is_absolute():
        assert str(path).startswith(APP_DIR + "/"), f"{container_path} is not under {APP_DIR}"
        path = path.relative_to(APP_DIR)
    return ROOT / path


def is_app(service: dict[str, Any]) -> bool:
    return "build" in service


def stackctl() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stackctl", STACKCTL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the compose file -------------------------------------------------------------------------


def test_compose_file_parses_with_the_expected_services() -> None:
    assert set(services()) == {"kafka", "elasticsearch", "kibana", "setup", "worker", "producer"}
    assert set(load_compose()["volumes"]) >= {"kafka-data", "es-data"}


def test_every_image_is_pinned_to_an_explicit_version() -> None:
    secrets = {"ELASTIC_PASSWORD": "x" * 8, "KIBANA_PASSWORD": "y" * 8, "NEWSFLOW_WEB_TOKEN": "z"}
    for env in (env_example(), secrets):
        for name, service in load_compose(env)["services"].items():
            image = service.get("image")
            assert image, f"{name}: no image (app services name the image they build)"
            _repository, sep, tag = image.rpartition(":")
            assert sep and "/" not in tag, f"{name}: image {image!r} has no tag"
            assert tag != "latest", f"{name}: image {image!r} uses latest"
            if not is_app(service):
                assert re.fullmatch(r"\d+\.\d+\.\d+", tag), f"{name}: {image!r} is not x.y.z"


def test_stack_versions_match_the_local_stack() -> None:
    svc = services()
    fields = Settings.model_fields
    kafka_tag = svc["kafka"]["image"].rpartition(":")[2]
    es_tag = svc["elasticsearch"]["image"].rpartition(":")[2]
    assert kafka_tag == fields["kafka_version"].default, "Docker and `newsflow stack` differ"
    assert es_tag == fields["es_version"].default, "Docker and `newsflow stack` differ"
    assert svc["kibana"]["image"].rpartition(":")[2] == es_tag, "Kibana must equal Elasticsearch"
    assert svc["kibana"]["image"].startswith("docker.elastic.co/kibana/kibana:")
    assert svc["elasticsearch"]["image"].startswith(
        "docker.elastic.co/elasticsearch/elasticsearch:"
    )


def test_build_services_use_the_dockerfile() -> None:
    app = {name: s for name, s in services().items() if is_app(s)}
    assert set(app) == {"setup", "worker", "producer"}
    images = {s["image"] for s in app.values()}
    assert len(images) == 1, f"app services must share one image, got {images}"
    for name, service in app.items():
        build = service["build"]
        context = ROOT / build.get("context", ".")
        assert context.resolve() == ROOT, f"{name}: build context {context}"
        assert (context / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE, name


def test_every_variable_is_in_env_example_and_documented() -> None:
    example = env_example()
    docs = DOCS.read_text(encoding="utf-8")
    used = compose_variables()
    assert used, "the compose file uses no variable at all?"
    for name in used:
        assert name in example, f"{name} is used by docker-compose.yml but not in .env.example"
        assert re.search(rf"\b{name}\b", docs), f"{name} is not documented in docs/DOCKER.md"
    unused = set(example) - set(used)
    assert not unused, f".env.example lists variables compose never uses: {sorted(unused)}"


def test_defaults_in_compose_equal_env_example() -> None:
    example = env_example()
    for name, uses in compose_variables().items():
        for op, arg in uses:
            if op in (":-", "-"):
                assert arg == example[name], (
                    f"{name}: compose default {arg!r} differs from .env.example {example[name]!r}"
                )


def test_passwords_are_required_not_defaulted() -> None:
    for name in ("ELASTIC_PASSWORD", "KIBANA_PASSWORD", "NEWSFLOW_WEB_TOKEN"):
        ops = {op for op, _ in compose_variables()[name]}
        assert ops == {":?"}, f"{name} must be ${{{name}:?...}} everywhere, got {ops}"
    with pytest.raises(KeyError, match="ELASTIC_PASSWORD"):
        load_compose({})


def test_settings_passed_to_the_app_are_real_settings() -> None:
    fields = Settings.model_fields
    for name, service in services().items():
        if not is_app(service):
            continue
        for key in environment(service):
            if key.startswith("NEWSFLOW_"):
                field = key.removeprefix("NEWSFLOW_").lower()
                assert field in fields, f"{name}: {key} is not a newsflow setting"
        env = environment(service)
        assert env["NEWSFLOW_KAFKA_BOOTSTRAP"] == "kafka:9092", name
        assert env["NEWSFLOW_ES_URL"] == "http://elasticsearch:9200", name
        assert env["NEWSFLOW_ES_USERNAME"] == "elastic", name
        assert env["NEWSFLOW_ES_PASSWORD"] == env_example()["ELASTIC_PASSWORD"], name
        assert env["NEWSFLOW_NAMESPACE"] == env_example()["NEWSFLOW_NAMESPACE"], name


def test_kafka_is_a_single_kraft_node_without_auto_created_topics() -> None:
    kafka = services()["kafka"]
    env = environment(kafka)
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    for key, value in env.items():
        if key.endswith("REPLICATION_FACTOR"):
            assert value == "1", f"{key}={value} on a single node"
    advertised = env["KAFKA_ADVERTISED_LISTENERS"]
    assert "INTERNAL://kafka:9092" in advertised
    assert f"EXTERNAL://localhost:{env_example()['KAFKA_HOST_PORT']}" in advertised
    assert any(v.endswith(":/var/lib/kafka/data") for v in kafka["volumes"])
    assert env["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"
    assert "kafka-broker-api-versions.sh" in " ".join(argv(kafka["healthcheck"]["test"]))


def test_elasticsearch_has_security_on_and_guards_deletes() -> None:
    es = services()["elasticsearch"]
    env = environment(es)
    assert env["xpack.security.enabled"] == "true"
    assert env["action.destructive_requires_name"] == "true"
    assert env["discovery.type"] == "single-node"
    assert env["ELASTIC_PASSWORD"] == env_example()["ELASTIC_PASSWORD"]
    assert "-Xmx" in env["ES_JAVA_OPTS"]
    assert any(v.endswith(":/usr/share/elasticsearch/data") for v in es["volumes"])
    check = " ".join(argv(es["healthcheck"]["test"]))
    assert "_cluster/health" in check and "$ELASTIC_PASSWORD" in check.replace("{", "").replace(
        "}", ""
    ), "the healthcheck must log in (with the container's own variable)"


def test_kibana_logs_in_as_kibana_system_after_elasticsearch() -> None:
    kibana = services()["kibana"]
    env = environment(kibana)
    assert env["ELASTICSEARCH_USERNAME"] == "kibana_system"
    assert env["ELASTICSEARCH_PASSWORD"] == env_example()["KIBANA_PASSWORD"]
    assert env["ELASTICSEARCH_HOSTS"] == "http://elasticsearch:9200"
    assert kibana["depends_on"]["elasticsearch"]["condition"] == "service_healthy"
    assert any(p.endswith(":5601") for p in kibana["ports"])
    assert "healthcheck" in kibana


def test_long_running_services_have_healthchecks_and_one_shots_do_not_restart() -> None:
    svc = services()
    for name in ("kafka", "elasticsearch", "kibana", "worker"):
        assert svc[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    for name in ("setup", "producer"):
        assert svc[name].get("restart") == "no", f"{name} is one-shot: restart must be 'no'"


def test_worker_is_scalable_and_waits_for_setup() -> None:
    worker = services()["worker"]
    assert "container_name" not in worker, "a fixed container_name prevents --scale worker=N"
    assert "ports" not in worker, "a host port prevents --scale worker=N"
    assert worker["depends_on"]["setup"]["condition"] == "service_completed_successfully"
    env = environment(worker)
    assert env["NEWSFLOW_WEB_HOST"] == "0.0.0.0"
    assert env["NEWSFLOW_WEB_TOKEN"].strip(), "bound to 0.0.0.0, the worker needs a token"
    port = env["NEWSFLOW_WEB_PORT"]
    check = " ".join(argv(worker["healthcheck"]["test"]))
    assert f":{port}/healthz" in check, f"the healthcheck must probe /healthz on {port}: {check}"


def test_producer_replays_the_bundled_sample_after_setup() -> None:
    producer = services()["producer"]
    assert producer["depends_on"]["setup"]["condition"] == "service_completed_successfully"
    command = argv(producer["command"])
    assert command[0] == "replay", command
    for path in command[1:]:
        if not path.startswith("-"):
            assert in_repo(path).exists(), f"producer replays {path}, not in the repository"


def test_setup_waits_for_kafka_and_elasticsearch() -> None:
    setup = services()["setup"]
    assert setup["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert setup["depends_on"]["elasticsearch"]["condition"] == "service_healthy"
    assert "kibana" in setup["depends_on"], "setup must start Kibana to import into it"
    env = environment(setup)
    assert env["KIBANA_URL"] == "http://kibana:5601"
    assert env["KIBANA_PASSWORD"] == env_example()["KIBANA_PASSWORD"]


# --- what the containers run exists -----------------------------------------------------------


def test_setup_script_exists_and_is_executable() -> None:
    entry = argv(services()["setup"]["entrypoint"])
    script = in_repo(entry[0])
    assert script == SETUP_SH, f"setup runs {entry}, expected deploy/compose/setup.sh"
    assert script.is_file(), f"{script} is missing"
    assert os.access(script, os.X_OK), f"{script} is not executable (chmod +x, git add)"
    tracked = subprocess.run(
        ["git", "ls-files", "-s", str(script.relative_to(ROOT))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    if tracked:
        assert tracked.startswith("100755"), f"git does not record {script} as executable"
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr


def _setup_commands() -> list[list[str]]:
    commands = []
    for line in SETUP_SH.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            commands.append(line.split())
    return commands


def test_every_newsflow_subcommand_the_containers_run_is_registered() -> None:
    used = {"worker": "the worker service", "replay": "the producer service"}
    svc = services()
    assert argv(svc["worker"]["command"])[0] == "worker"
    for words in _setup_commands():
        if words[0] == "newsflow":
            used[words[1]] = "deploy/compose/setup.sh"
    assert "bootstrap" in used, "setup.sh must run `newsflow bootstrap`"
    missing = {name: who for name, who in used.items() if name not in _COMMANDS}
    assert not missing, (
        f"newsflow subcommands used but not registered in newsflow/cli/__init__.py "
        f"_COMMANDS: {missing}. "
        "`bootstrap` (topics with NEWSFLOW_PARTITIONS partitions + index templates of "
        "deploy/elasticsearch/v8/) is the lead's to add."
    )


def test_every_stackctl_step_the_setup_runs_exists() -> None:
    steps = [cmd[1] for cmd in _setup_commands() if cmd[0] == "stackctl"]
    assert steps == ["wait-es", "kibana-password", "wait-kibana", "import-kibana"], steps
    missing = set(steps) - set(stackctl().STEPS)
    assert not missing, f"setup.sh runs stackctl steps that do not exist: {missing}"
    assert sorted((ROOT / "deploy" / "kibana").glob("*.ndjson")), "no deploy/kibana/*.ndjson"


def test_stackctl_steps_are_accepted_by_its_parser(capsys: pytest.CaptureFixture[str]) -> None:
    module = stackctl()
    for cmd in _setup_commands():
        if cmd[0] == "stackctl":
            with pytest.raises(SystemExit) as exc:
                module.main([cmd[1], "--help"])
            assert exc.value.code == 0, f"stackctl rejects {cmd[1]}"
    with pytest.raises(SystemExit) as exc:
        module.main(["no-such-step"])
    assert exc.value.code == 2
    capsys.readouterr()


# --- the Dockerfile and .dockerignore ----------------------------------------------------------


def test_dockerfile_pins_python_runs_unprivileged_and_has_the_newsflow_entrypoint() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    bases = re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)
    assert bases, "no FROM"
    for base in bases:
        assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", base), f"unpinned base {base}"
    assert re.search(r"pip install -c constraints\.txt", text), "installs must use constraints"
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0"), "the image must not run as root"
    assert re.search(r'^ENTRYPOINT \["newsflow"\]', text, re.MULTILINE)
    assert re.search(r"^WORKDIR\s+/app$", text, re.MULTILINE), "paths assume WORKDIR /app"
    assert re.search(r"^COPY \. \.$", text, re.MULTILINE), "the image needs deploy/ and corpus/"


def test_dockerignore_keeps_secrets_and_junk_out_but_not_deploy_or_corpus() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for needed in (".git", ".venv", ".env", "**/__pycache__"):
        assert needed in patterns, f".dockerignore must exclude {needed}"
    for kept in ("deploy", "corpus", "newsflow", "schemas", "producers", "processors"):
        assert not any(p.rstrip("/").lstrip("/") == kept for p in patterns), f"{kept} excluded"
    assert "pyproject.toml" not in patterns and "constraints.txt" not in patterns


# --- the setup steps, against a fake HTTP layer ------------------------------------------------


class FakeKibanaAndEs:
    """Answers urllib requests the way Elasticsearch and Kibana would; records them."""

    def __init__(self, import_answer: dict[str, Any] | None = None) -> None:
        self.requests: list[urllib.request.Request] = []
        self.import_answer = import_answer or {"success": True, "successCount": 15}

    def urlopen(self, request: urllib.request.Request, timeout: float = 0) -> Any:
        self.requests.append(request)
        url = request.full_url
        if url.endswith("/_security/user/kibana_system/_password"):
            return _Response(200, {})
        if "/api/saved_objects/_import" in url:
            return _Response(200, self.import_answer)
        if url.endswith("/api/status"):
            return _Response(200, {"status": {"overall": {"level": "available"}}})
        if "/_cluster/health" in url:
            return _Response(200, {"status": "green"})
        raise urllib.error.URLError(f"unexpected {url}")


class _Response:
    def __init__(self, status: int, body: Any) -> None:
        self.status, self._body = status, json.dumps(body).encode()

    def read(self) -> bytes:
        return self._body

    def __enter__(self) -> _Response:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeKibanaAndEs:
    server = FakeKibanaAndEs()
    monkeypatch.setattr(urllib.request, "urlopen", server.urlopen)
    monkeypatch.setenv("ELASTIC_PASSWORD", "elastic-secret")
    monkeypatch.setenv("KIBANA_PASSWORD", "kibana-secret")
    monkeypatch.setenv("NEWSFLOW_NAMESPACE", "news")
    return server


def _kibana_files() -> list[str]:
    return [str(p) for p in sorted((ROOT / "deploy" / "kibana").glob("*.ndjson"))]


def test_import_posts_every_object_once_with_overwrite_and_xsrf(fake: FakeKibanaAndEs) -> None:
    assert stackctl().main(["import-kibana", *_kibana_files()]) == 0
    (request,) = fake.requests
    assert request.get_method() == "POST"
    assert request.full_url == "http://kibana:5601/api/saved_objects/_import?overwrite=true"
    headers = {k.lower(): v for k, v in request.header_items()}
    assert headers["kbn-xsrf"] == "true"
    assert headers["content-type"].startswith("multipart/form-data; boundary=")
    assert headers["authorization"].startswith("Basic ")
    body = request.data
    assert isinstance(body, bytes)
    boundary = headers["content-type"].partition("boundary=")[2].encode()
    part = body.split(b"--" + boundary)[1]
    ndjson = part.split(b"\r\n\r\n", 1)[1].rstrip(b"\r\n")
    sent = [json.loads(line)["id"] for line in ndjson.decode().splitlines()]
    in_files = [
        json.loads(line)["id"]
        for f in _kibana_files()
        for line in Path(f).read_text(encoding="utf-8").splitlines()
    ]
    assert sent == in_files, "one request must carry every object of deploy/kibana/, once"


def test_import_failure_is_an_error_exit(
    fake: FakeKibanaAndEs, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.import_answer = {"success": False, "errors": [{"id": "x", "error": {"type": "conflict"}}]}
    assert stackctl().main(["import-kibana", *_kibana_files()]) == 1
    assert "Kibana import failed" in capsys.readouterr().err


def test_kibana_password_step_sets_the_builtin_user(fake: FakeKibanaAndEs) -> None:
    assert stackctl().main(["kibana-password"]) == 0
    (request,) = fake.requests
    assert request.full_url == "http://elasticsearch:9200/_security/user/kibana_system/_password"
    assert json.loads(request.data or b"") == {"password": "kibana-secret"}


def test_short_passwords_are_refused_before_any_request(
    fake: FakeKibanaAndEs, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KIBANA_PASSWORD", "abc")
    assert stackctl().main(["kibana-password"]) == 1
    assert fake.requests == []
    assert "KIBANA_PASSWORD" in capsys.readouterr().err


def test_waits_return_when_ready(fake: FakeKibanaAndEs) -> None:
    assert stackctl().main(["wait-es", "--timeout", "5"]) == 0
    assert stackctl().main(["wait-kibana", "--timeout", "5"]) == 0


def test_a_wait_that_times_out_says_what_it_waited_for(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(request: urllib.request.Request, timeout: float = 0) -> Any:
        raise urllib.error.URLError("connection refused")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setenv("ELASTIC_PASSWORD", "elastic-secret")
    assert stackctl().main(["wait-kibana", "--timeout", "0.01"]) == 1
    err = capsys.readouterr().err
    assert "Kibana not ready" in err and "connection refused" in err


# --- the real Compose, when installed ----------------------------------------------------------


def _compose_plugin() -> bool:
    if shutil.which("docker") is None:
        pytest.skip("the docker client is not installed")
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    return probe.returncode == 0


def test_docker_compose_config_accepts_the_file() -> None:
    if not _compose_plugin():
        pytest.skip("the docker client has no compose plugin (`docker compose version` fails)")
    result = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE), "--env-file", str(ENV_EXAMPLE), "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
