"""The Kibana saved objects of deploy/kibana/ checked against the index templates (no Kibana here).

Every object must parse, have a unique id and references that resolve inside the files; every
field a data view, saved search or Lens visualization uses must exist in the index template of
its data view (deploy/elasticsearch/v8/<name>.json for the data view ``<ns>-<name>``) with a type
that supports the use. The dashboards must show what docs/DOCKER.md promises.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
KIBANA_DIR = ROOT / "deploy" / "kibana"
TEMPLATE_DIR = ROOT / "deploy" / "elasticsearch" / "v8"
NAMESPACE = "news"
GRID_COLUMNS = 48

NUMERIC = {
    "long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float",
    "unsigned_long",
}  # fmt: skip
AGGREGATABLE = {"keyword", "boolean", "date", "ip", "constant_keyword"} | NUMERIC
# What each use of a field needs from its mapping type.
ALLOWED_TYPES: dict[str, set[str]] = {
    "terms": {"keyword", "boolean"},
    "date_histogram": {"date"},
    "sum": NUMERIC,
    "average": NUMERIC,
    "median": NUMERIC,
    "percentile": NUMERIC,
    "standard_deviation": NUMERIC,
    "min": NUMERIC | {"date"},
    "max": NUMERIC | {"date"},
    "last_value": AGGREGATABLE,
    "unique_count": AGGREGATABLE,
    "count": AGGREGATABLE,
    "sort": AGGREGATABLE,
    "last_value sort": {"date"},
    "time field": {"date"},
    "url format": {"keyword"},
}
# Lens column dataType -> mapping types it may come from.
LENS_DATA_TYPES = {
    "string": {"keyword", "text", "constant_keyword"},
    "number": NUMERIC,
    "date": {"date"},
    "boolean": {"boolean"},
}
RECORDS = "___records___"


# --- loading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """A mapped field: its type and whether it is indexed (searchable)."""

    type: str
    indexed: bool


def _flatten(properties: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Field]]:
    for name, spec in properties.items():
        path = f"{prefix}{name}"
        indexed = spec.get("index", True) and spec.get("enabled", True)
        yield path, Field(spec.get("type", "object"), bool(indexed))
        if spec.get("enabled", True):
            yield from _flatten(spec.get("properties", {}), f"{path}.")
        for sub, sub_spec in spec.get("fields", {}).items():
            yield f"{path}.{sub}", Field(sub_spec["type"], sub_spec.get("index", True))


def mapping_of(data_view_title: str) -> dict[str, Field]:
    """The fields of the index template behind a data view titled ``<ns>-<name>``."""
    assert data_view_title.startswith(f"{NAMESPACE}-"), (
        f"data view {data_view_title!r} is not in namespace {NAMESPACE!r}"
    )
    template = TEMPLATE_DIR / f"{data_view_title.removeprefix(NAMESPACE + '-')}.json"
    assert template.is_file(), f"data view {data_view_title!r} has no index template {template}"
    body = json.loads(template.read_text(encoding="utf-8"))
    return dict(_flatten(body["template"]["mappings"]["properties"]))


def load_lines() -> list[tuple[str, dict[str, Any]]]:
    """(where, object) for every line of every ndjson file; fails on a line that is no object."""
    lines = []
    for path in sorted(KIBANA_DIR.glob("*.ndjson")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{path.relative_to(ROOT)}:{number}"
            assert line.strip(), f"{where}: blank line in ndjson"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                pytest.fail(f"{where}: not JSON: {exc}")
            assert isinstance(obj, dict), f"{where}: not a JSON object"
            lines.append((where, obj))
    return lines


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return [obj for _, obj in load_lines()]


@pytest.fixture(scope="module")
def by_id(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {obj["id"]: obj for obj in objects}


def _of_type(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["type"] == kind]


def _by_title(objects: list[dict[str, Any]], kind: str, title: str) -> dict[str, Any]:
    found = [obj for obj in _of_type(objects, kind) if obj["attributes"]["title"] == title]
    assert len(found) == 1, f"expected one {kind} titled {title!r}, found {len(found)}"
    return found[0]


def _ref(obj: dict[str, Any], name: str) -> str:
    ids = [ref["id"] for ref in obj["references"] if ref["name"] == name]
    assert len(ids) == 1, f"{obj['id']}: expected one reference named {name!r}, found {ids}"
    return ids[0]


def _search_source(obj: dict[str, Any]) -> dict[str, Any]:
    raw = obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"]
    source: dict[str, Any] = json.loads(raw)
    return source


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    panels: list[dict[str, Any]] = json.loads(dashboard["attributes"]["panelsJSON"])
    return panels


# --- field uses -------------------------------------------------------------------------------

KQL_FIELD = re.compile(r'(?:^|[\s(])"?([A-Za-z_@][\w.@]*)"?\s*:\s*("[^"]*"|[^\s)]+)')


def kql_uses(query: dict[str, Any] | None) -> Iterator[tuple[str, str]]:
    """(field, value) of each ``field : value`` clause of a KQL query."""
    if query and query.get("query"):
        assert query.get("language") == "kuery", f"only KQL is checked, got {query}"
        for match in KQL_FIELD.finditer(query["query"]):
            yield match.group(1), match.group(2)


@dataclass(frozen=True)
class Use:
    """One use of one field of one data view by one saved object."""

    owner: str
    view_id: str
    field: str
    use: str
    value: str | None = None
    data_type: str | None = None


def _lens_uses(obj: dict[str, Any]) -> Iterator[Use]:
    state = obj["attributes"]["state"]
    layers = state["datasourceStates"]["formBased"]["layers"]
    for layer_id, layer in layers.items():
        view = _ref(obj, f"indexpattern-datasource-layer-{layer_id}")
        for field, value in kql_uses(state.get("query")):
            yield Use(obj["id"], view, field, "query", value)
        for column in layer["columns"].values():
            operation = column["operationType"]
            source = column.get("sourceField")
            if source and source != RECORDS:
                yield Use(obj["id"], view, source, operation, data_type=column.get("dataType"))
            sort_field = column.get("params", {}).get("sortField")
            if sort_field:
                yield Use(obj["id"], view, sort_field, "last_value sort")
            for field, value in kql_uses(column.get("filter")):
                yield Use(obj["id"], view, field, "query", value)


def _search_uses(obj: dict[str, Any]) -> Iterator[Use]:
    view = _ref(obj, "kibanaSavedObjectMeta.searchSourceJSON.index")
    attributes = obj["attributes"]
    for column in attributes["columns"]:
        yield Use(obj["id"], view, column, "column")
    for field, _direction in attributes.get("sort", []):
        yield Use(obj["id"], view, field, "sort")
    source = _search_source(obj)
    for field, value in kql_uses(source.get("query")):
        yield Use(obj["id"], view, field, "query", value)
    for number, flt in enumerate(source.get("filter", [])):
        flt_view = _ref(obj, f"kibanaSavedObjectMeta.searchSourceJSON.filter[{number}].meta.index")
        value = flt["meta"].get("params", {}).get("query")
        yield Use(obj["id"], flt_view, flt["meta"]["key"], "query", json.dumps(value))


def _data_view_uses(obj: dict[str, Any]) -> Iterator[Use]:
    attributes = obj["attributes"]
    yield Use(obj["id"], obj["id"], attributes["timeFieldName"], "time field")
    for field, spec in json.loads(attributes.get("fieldFormatMap") or "{}").items():
        use = "url format" if spec.get("id") == "url" else "column"
        yield Use(obj["id"], obj["id"], field, use)


def all_uses(objects: list[dict[str, Any]]) -> list[Use]:
    """Every field use of every data view, saved search and Lens visualization."""
    handlers = {"lens": _lens_uses, "search": _search_uses, "index-pattern": _data_view_uses}
    uses: list[Use] = []
    for obj in objects:
        if obj["type"] in handlers:
            uses.extend(handlers[obj["type"]](obj))
    return uses


def check_use(use: Use, fields: dict[str, Field]) -> str | None:
    """Why ``use`` is wrong for the mapping ``fields``, or None."""
    where = f"{use.owner}: field {use.field!r} ({use.use})"
    field = fields.get(use.field)
    if field is None:
        return f"{where} is not in the index template"
    if use.use == "query" and not field.indexed:
        return f"{where} is not indexed, so it cannot be searched"
    if use.use == "query" and (field.type == "boolean") != (use.value in ("true", "false")):
        return f"{where} is {field.type} but compared with {use.value}"
    if use.use not in ("query", "column"):
        allowed = ALLOWED_TYPES.get(use.use)
        if allowed is None:
            return f"{where}: unknown operation; add it to ALLOWED_TYPES in this test"
        if field.type not in allowed or not field.indexed:
            return f"{where} is {field.type}, which does not support {use.use}"
    if use.data_type and field.type not in LENS_DATA_TYPES.get(use.data_type, set()):
        return f"{where} is {field.type} but the Lens column says dataType {use.data_type}"
    return None


# --- the tests --------------------------------------------------------------------------------


def test_every_line_is_a_saved_object() -> None:
    lines = load_lines()
    assert lines, f"no saved objects in {KIBANA_DIR}"
    for where, obj in lines:
        missing = {"id", "type", "attributes", "references"} - set(obj)
        assert not missing, f"{where}: missing {sorted(missing)}"
        assert obj["type"] in {"index-pattern", "search", "lens", "visualization", "dashboard"}
        assert obj["id"].startswith(f"newsflow-{NAMESPACE}-"), (
            f"{where}: id {obj['id']!r} must start with newsflow-{NAMESPACE}- "
            "(stackctl.render moves it to another namespace)"
        )
        assert isinstance(obj["references"], list)


def test_ids_are_unique() -> None:
    seen: dict[str, str] = {}
    for where, obj in load_lines():
        assert obj["id"] not in seen, f"{where}: id {obj['id']!r} already used at {seen[obj['id']]}"
        seen[obj["id"]] = where


def test_every_reference_resolves(objects: list[dict[str, Any]], by_id: dict[str, Any]) -> None:
    for obj in objects:
        names = [ref["name"] for ref in obj["references"]]
        assert len(names) == len(set(names)), f"{obj['id']}: duplicate reference names"
        for ref in obj["references"]:
            target = by_id.get(ref["id"])
            assert target, f"{obj['id']}: reference {ref['name']} -> {ref['id']} is missing"
            assert target["type"] == ref["type"], (
                f"{obj['id']}: reference {ref['name']} says {ref['type']}, "
                f"{ref['id']} is a {target['type']}"
            )


def test_data_views_match_the_indices(objects: list[dict[str, Any]]) -> None:
    views = {obj["attributes"]["title"]: obj for obj in _of_type(objects, "index-pattern")}
    assert set(views) == {f"{NAMESPACE}-articles", f"{NAMESPACE}-alerts"}
    assert views[f"{NAMESPACE}-articles"]["attributes"]["timeFieldName"] == "ingested_at"
    assert views[f"{NAMESPACE}-alerts"]["attributes"]["timeFieldName"] == "matched_at"
    for title in views:
        mapping_of(title)  # each has its template


def test_every_field_exists_with_a_type_that_supports_its_use(
    objects: list[dict[str, Any]], by_id: dict[str, Any]
) -> None:
    uses = all_uses(objects)
    assert len(uses) > 20, "the field extraction found suspiciously little"
    problems = []
    for use in uses:
        view = by_id[use.view_id]
        assert view["type"] == "index-pattern", f"{use.owner}: {use.view_id} is not a data view"
        problem = check_use(use, mapping_of(view["attributes"]["title"]))
        if problem:
            problems.append(problem)
    assert not problems, "\n".join(problems)


def test_lens_layers_and_columns_are_consistent(objects: list[dict[str, Any]]) -> None:
    for obj in _of_type(objects, "lens"):
        state = obj["attributes"]["state"]
        layers = state["datasourceStates"]["formBased"]["layers"]
        assert layers, f"{obj['id']}: no formBased layer"
        layer_refs = {
            ref["name"].removeprefix("indexpattern-datasource-layer-")
            for ref in obj["references"]
            if ref["name"].startswith("indexpattern-datasource-layer-")
        }
        assert layer_refs == set(layers), f"{obj['id']}: layer references {layer_refs}"
        columns: set[str] = set()
        for layer_id, layer in layers.items():
            assert sorted(layer["columnOrder"]) == sorted(layer["columns"]), (
                f"{obj['id']}/{layer_id}: columnOrder and columns differ"
            )
            for column_id, column in layer["columns"].items():
                for ref in column.get("references", []):
                    assert ref in layer["columns"], f"{obj['id']}/{column_id}: unknown {ref}"
                order_by = column.get("params", {}).get("orderBy", {})
                if order_by.get("type") == "column":
                    assert order_by["columnId"] in layer["columns"], f"{obj['id']}/{column_id}"
            columns |= set(layer["columns"])
        accessors = set(_accessors(state["visualization"]))
        assert accessors, f"{obj['id']}: the visualization shows no column"
        assert accessors <= columns, f"{obj['id']}: unknown accessors {accessors - columns}"
        layer_ids = set(_visualization_layers(state["visualization"]))
        assert layer_ids <= set(layers), f"{obj['id']}: visualization layers {layer_ids}"


def _accessors(vis: Any) -> Iterator[str]:
    keys_one = ("xAccessor", "splitAccessor", "metricAccessor", "accessor", "columnId")
    keys_many = ("accessors", "primaryGroups", "secondaryGroups", "metrics")
    if isinstance(vis, dict):
        for key, value in vis.items():
            if key in keys_one and isinstance(value, str):
                yield value
            elif key in keys_many and isinstance(value, list):
                yield from (v for v in value if isinstance(v, str))
            else:
                yield from _accessors(value)
    elif isinstance(vis, list):
        for item in vis:
            yield from _accessors(item)


def _visualization_layers(vis: dict[str, Any]) -> Iterator[str]:
    if "layerId" in vis:
        yield vis["layerId"]
    for layer in vis.get("layers", []):
        yield layer["layerId"]


def test_dashboard_panels_resolve_and_fit_the_grid(
    objects: list[dict[str, Any]], by_id: dict[str, Any]
) -> None:
    dashboards = _of_type(objects, "dashboard")
    assert dashboards
    for dashboard in dashboards:
        panels = _panels(dashboard)
        assert panels, f"{dashboard['id']}: no panels"
        indexes = [panel["panelIndex"] for panel in panels]
        assert len(indexes) == len(set(indexes)), f"{dashboard['id']}: duplicate panelIndex"
        refs = {ref["name"]: ref for ref in dashboard["references"]}
        cells: dict[tuple[int, int], str] = {}
        for panel in panels:
            index, grid = panel["panelIndex"], panel["gridData"]
            where = f"{dashboard['id']} panel {index}"
            ref = refs.get(f"{index}:{panel['panelRefName']}")
            assert ref is not None, f"{where}: no reference {index}:{panel['panelRefName']}"
            assert ref["type"] == panel["type"] == by_id[ref["id"]]["type"], where
            assert grid["i"] == index, f"{where}: gridData.i differs"
            assert grid["x"] >= 0 and grid["x"] + grid["w"] <= GRID_COLUMNS, f"{where}: too wide"
            for x in range(grid["x"], grid["x"] + grid["w"]):
                for y in range(grid["y"], grid["y"] + grid["h"]):
                    assert (x, y) not in cells, f"{where} overlaps panel {cells[(x, y)]}"
                    cells[(x, y)] = index
        assert len(refs) == len(panels), f"{dashboard['id']}: references without a panel"


def _dashboard_uses(
    dashboard: dict[str, Any], objects: list[dict[str, Any]], by_id: dict[str, Any]
) -> set[tuple[str, str, str]]:
    """(data view title, use, field) of everything a dashboard's panels show."""
    panel_ids = {ref["id"] for ref in dashboard["references"]}
    members = [by_id[i] for i in panel_ids]
    return {
        (by_id[use.view_id]["attributes"]["title"], use.use, use.field) for use in all_uses(members)
    }


def test_news_monitor_shows_what_the_docs_promise(
    objects: list[dict[str, Any]], by_id: dict[str, Any]
) -> None:
    monitor = _by_title(objects, "dashboard", "News monitor")
    attributes = monitor["attributes"]
    assert attributes["timeRestore"] is True, "the refresh interval is only kept with timeRestore"
    assert attributes["refreshInterval"] == {"pause": False, "value": 10_000}, (
        f"News monitor must refresh every 10 s, has {attributes['refreshInterval']}"
    )
    articles, alerts = f"{NAMESPACE}-articles", f"{NAMESPACE}-alerts"
    wanted = {
        (articles, "date_histogram", "ingested_at"),  # articles over time ...
        (articles, "terms", "topics"),  # ... by topic
        (articles, "terms", "persons"),
        (articles, "terms", "organizations"),
        (articles, "terms", "locations"),
        (articles, "terms", "source"),
        (articles, "query", "is_duplicate"),  # duplicate ratio
        (articles, "terms", "story_id"),  # latest stories ...
        (articles, "sort", "ingested_at"),  # live feed, newest first
        (alerts, "column", "url"),  # latest alerts, with links
    }
    shown = _dashboard_uses(monitor, objects, by_id)
    assert wanted <= shown, f"News monitor lacks {sorted(wanted - shown)}"


def test_alerts_dashboard_shows_alerts_per_subscription_with_links(
    objects: list[dict[str, Any]], by_id: dict[str, Any]
) -> None:
    dashboard = _by_title(objects, "dashboard", "Alerts")
    alerts = f"{NAMESPACE}-alerts"
    wanted = {
        (alerts, "date_histogram", "matched_at"),
        (alerts, "terms", "subscription_id"),
        (alerts, "column", "url"),
        (alerts, "sort", "matched_at"),
    }
    shown = _dashboard_uses(dashboard, objects, by_id)
    assert wanted <= shown, f"Alerts dashboard lacks {sorted(wanted - shown)}"
    view = next(o for o in _of_type(objects, "index-pattern") if o["attributes"]["title"] == alerts)
    formats = json.loads(view["attributes"]["fieldFormatMap"])
    assert formats.get("url", {}).get("id") == "url", "alert urls must render as links"


def test_live_feed_is_newest_first_without_duplicates(objects: list[dict[str, Any]]) -> None:
    feed = _by_title(objects, "search", "Live feed")
    attributes = feed["attributes"]
    assert attributes["columns"] == ["title", "source", "topics", "persons", "locations"]
    assert attributes["sort"][0] == ["ingested_at", "desc"], "newest first"
    filters = _search_source(feed)["filter"]
    hiding = [
        f
        for f in filters
        if f["meta"]["key"] == "is_duplicate"
        and not f["meta"]["disabled"]
        and not f["meta"]["negate"]
        and f["query"] == {"match_phrase": {"is_duplicate": False}}
    ]
    assert hiding, f"Live feed must filter is_duplicate: false, has {filters}"


def test_live_feed_hides_tagged_replays(objects: list[dict[str, Any]]) -> None:
    feed = _by_title(objects, "search", "Live feed")
    hiding = [
        f
        for f in _search_source(feed)["filter"]
        if f["meta"]["key"] == "replay_tag"
        and f["meta"]["type"] == "exists"
        and f["meta"]["negate"]
        and not f["meta"]["disabled"]
        and f["query"] == {"exists": {"field": "replay_tag"}}
    ]
    assert hiding, "Live feed must hide documents of a tagged replay (NOT replay_tag exists)"


# --- other namespaces -------------------------------------------------------------------------


def _stackctl() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "stackctl", ROOT / "deploy" / "compose" / "stackctl.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_render_for_the_default_namespace_changes_nothing(objects: list[dict[str, Any]]) -> None:
    stackctl = _stackctl()
    assert stackctl.render(objects, NAMESPACE) == objects


def test_render_moves_every_object_to_another_namespace(objects: list[dict[str, Any]]) -> None:
    stackctl = _stackctl()
    moved = stackctl.render(objects, "tenant_x")
    ids = {obj["id"] for obj in moved}
    assert all(i.startswith("newsflow-tenant_x-") for i in ids), sorted(ids)
    assert not ids & {obj["id"] for obj in objects}, "ids must differ between namespaces"
    for obj in moved:
        for ref in obj["references"]:
            assert ref["id"] in ids, f"{obj['id']}: reference {ref['id']} left behind"
    titles = {o["attributes"]["title"] for o in moved if o["type"] == "index-pattern"}
    assert titles == {"tenant_x-articles", "tenant_x-alerts"}
    monitor = [o for o in moved if o["type"] == "dashboard"]
    assert {o["attributes"]["title"] for o in monitor} == {
        "News monitor [tenant_x]",
        "Alerts [tenant_x]",
    }
    assert "newsflow-news-" not in json.dumps(moved)
    assert objects == [obj for _, obj in load_lines()], "render must not change its input"
