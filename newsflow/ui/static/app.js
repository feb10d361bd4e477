// newsflow live page: plain JavaScript, no build step, nothing loaded from elsewhere.
//
// State lives in the address bar (?q=&topic=&person=...&sort=), so a view can be reloaded,
// bookmarked and shared. The list comes from /api/articles, the facet counts from
// /api/facets, the alerts from /api/alerts; /api/stream (server-sent events) then pushes what
// is indexed afterwards. Text is always inserted as text; only the `highlight` fields, which
// the server escapes (all but <mark>), are inserted as HTML.
"use strict";

(() => {
  const MAX_CARDS = 200;      // the list keeps the newest this many
  const ENTITIES_SHOWN = 6;   // persons or places on a card before "+N"
  const FACETS_DEBOUNCE_MS = 1500;
  const EPOCH = "1970-01-01T00:00:00Z";  // "from the beginning", for an empty list
  const FILTER_LABELS = {
    topic: "topic", person: "person", organization: "organization",
    location: "location", source: "source", story: "story",
  };

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  };
  const html = (tag, attrs, safeHtml) => {  // safeHtml: escaped by the server (highlights)
    const node = el(tag, attrs);
    node.innerHTML = safeHtml;
    return node;
  };

  // --- state ------------------------------------------------------------------------------

  const state = { q: "", sort: "newest", filters: [] };  // filters: [[param, value], ...]
  let cursor = null;         // newest processed_at of the list (the stream starts there)
  let alertsCursor = null;   // newest matched_at of the alerts
  let stream = null;
  let loading = null;        // AbortController of the current load
  let facetsTimer = null;
  let outage = false;        // Elasticsearch was unreachable since the list was loaded
  const alertIds = new Set();

  function readLocation() {
    const params = new URLSearchParams(location.search);
    state.q = params.get("q") || "";
    state.sort = params.get("sort") === "relevance" ? "relevance" : "newest";
    state.filters = [];
    for (const [param, value] of params) {
      if (param in FILTER_LABELS && value) state.filters.push([param, value]);
    }
  }

  function queryString(extra = {}) {
    const params = new URLSearchParams();
    if (state.q) params.set("q", state.q);
    if (state.sort !== "newest") params.set("sort", state.sort);
    for (const [param, value] of state.filters) params.append(param, value);
    for (const [key, value] of Object.entries(extra)) params.set(key, value);
    return params.toString();
  }

  function writeLocation() {
    const qs = queryString();
    history.replaceState(null, "", qs ? `?${qs}` : location.pathname);
  }

  function hasFilter(param, value) {
    return state.filters.some(([p, v]) => p === param && v === value);
  }

  function addFilter(param, value) {
    if (!hasFilter(param, value)) state.filters.push([param, value]);
    reload();
  }

  function removeFilter(param, value) {
    state.filters = state.filters.filter(([p, v]) => !(p === param && v === value));
    reload();
  }

  // --- formatting -------------------------------------------------------------------------

  const dateOnly = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
  const dateTime = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });

  function published(iso) {
    if (!iso) return null;
    const when = new Date(iso);
    if (Number.isNaN(when.getTime())) return null;
    // A date without a time (a corpus file's `date` line) is midnight UTC: show the day only.
    const midnight = when.getUTCHours() === 0 && when.getUTCMinutes() === 0 && when.getUTCSeconds() === 0;
    return (midnight ? dateOnly : dateTime).format(when);
  }

  function ago(iso) {
    if (!iso) return "";
    const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
    if (seconds < 60) return "just now";
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
    if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
    return `${Math.floor(seconds / 86400)} d ago`;
  }

  const safeHref = (url) => (typeof url === "string" && /^https?:\/\//i.test(url) ? url : null);

  // --- articles ---------------------------------------------------------------------------

  function filterButton(cls, param, value, label = value) {
    return el("button", { type: "button", class: cls, dataset: { param, value }, title: `Filter: ${FILTER_LABELS[param]} ${value}` }, label);
  }

  function entityList(kind, param, values) {
    if (!values || !values.length) return null;
    const shown = values.slice(0, ENTITIES_SHOWN);
    const parts = [el("span", { class: "kind" }, kind)];
    shown.forEach((value, i) => {
      if (i) parts.push(", ");
      parts.push(filterButton("entity", param, value));
    });
    if (values.length > shown.length) parts.push(el("span", { class: "more" }, ` +${values.length - shown.length}`));
    return el("span", { class: "entities" }, parts);
  }

  function storyBadge(article) {
    if (!article.story_id || (article.story_size || 0) < 2) return null;
    return el("button", {
      type: "button", class: "story", dataset: { param: "story", value: article.story_id },
      title: `Show the ${article.story_size} articles of story ${article.story_id}`,
    }, `story · ${article.story_size} articles`);
  }

  function titleNode(article) {
    const href = safeHref(article.url);
    const attrs = href ? { href, target: "_blank", rel: "noopener noreferrer" } : {};
    const marked = article.highlight && article.highlight.title;
    if (marked) return html(href ? "a" : "span", attrs, marked);
    return el(href ? "a" : "span", attrs, article.title || "(untitled)");
  }

  function leadNode(article) {
    const fragments = (article.highlight && article.highlight.body) || [];
    if (!fragments.length) return null;
    const lead = el("p", { class: "lead" });
    fragments.forEach((fragment, i) => {
      if (i) lead.append(el("span", { class: "sep" }, "…"));
      lead.append(html("span", {}, fragment));
    });
    return lead;
  }

  function copiesNodes(article) {
    const count = article.copy_count || 0;
    if (!count) return [];
    const list = el("ul", { class: "copies", hidden: true });
    for (const copy of article.copies || []) {
      const href = safeHref(copy.url);
      const title = copy.title || "(untitled)";
      list.append(el("li", { dataset: { id: copy.id } },
        el("span", { class: "source" }, copy.source || "copy"),
        href ? el("a", { href, target: "_blank", rel: "noopener noreferrer" }, title) : title,
        copy.published_at ? ` · ${published(copy.published_at)}` : ""));
    }
    const toggle = el("button", { type: "button", class: "copies-toggle", "aria-expanded": "false" },
      `+${count} ${count === 1 ? "copy" : "copies"}`);
    toggle.addEventListener("click", () => {
      list.hidden = !list.hidden;
      toggle.setAttribute("aria-expanded", String(!list.hidden));
    });
    return [toggle, list];
  }

  function card(article) {
    const item = el("li", { class: "card", dataset: { id: article.id, story: article.story_id || "" } });
    item._article = article;
    item.append(
      el("div", { class: "meta" },
        article.source ? el("span", { class: "source" }, article.source) : null,
        article.published_at ? el("time", { datetime: article.published_at }, published(article.published_at)) : null,
        storyBadge(article),
        el("span", { class: "ago", title: `indexed ${article.ingested_at || ""}`, dataset: { ingested: article.ingested_at || "" } }, ago(article.ingested_at))),
      el("h3", { class: "title" }, titleNode(article)),
      leadNode(article),
      el("div", { class: "tags" },
        (article.topics || []).map((topic) => filterButton("chip", "topic", topic)),
        entityList("people", "person", article.persons),
        entityList("places", "location", article.locations)),
      ...copiesNodes(article),
    );
    return item;
  }

  function findCard(id) {
    return $("articles").querySelector(`li.card[data-id="${CSS.escape(id)}"]`);
  }

  function replaceCard(old, article) {
    const fresh = card(article);
    if (old.classList.contains("fresh")) fresh.classList.add("fresh");
    if (old.querySelector(".copies:not([hidden])")) fresh.querySelector(".copies-toggle")?.click();
    old.replaceWith(fresh);
    return fresh;
  }

  function renderArticles(payload) {
    const list = $("articles");
    list.replaceChildren(...payload.articles.map(card));
    $("empty").hidden = payload.articles.length > 0;
    renderCount(payload.total);
  }

  function renderCount(total) {
    const noun = total === 1 ? "article" : "articles";
    $("count").textContent = state.q || state.filters.length ? `${total} matching ${noun}` : `${total} ${noun}`;
  }

  // A card goes where its ingestion time puts it: an article indexed late (an NLP backlog,
  // a copy that waited for its first copy) must not land above newer ones.
  function insertNewestFirst(list, item, ingested) {
    for (const other of list.children) {
      const at = other.querySelector(".ago")?.dataset.ingested || "";
      if (at < ingested) { list.insertBefore(item, other); return; }
    }
    list.append(item);
  }

  // New articles from the stream: originals in time order, copies and story sizes update cards.
  function onArticles(data) {
    const list = $("articles");
    const originals = [...data.articles].sort((a, b) => (a.ingested_at || "").localeCompare(b.ingested_at || ""));
    for (const article of originals) {
      const old = findCard(article.id);
      if (old) { replaceCard(old, article); continue; }
      const item = card(article);
      item.classList.add("fresh");
      if (state.sort === "newest") insertNewestFirst(list, item, article.ingested_at || "");
      else list.prepend(item);
      const made = article.processed_at || article.ingested_at || "";
      if (!cursor || made > cursor) cursor = made;
    }
    for (const [id, folded] of Object.entries(data.copies || {})) {
      const old = findCard(id);
      if (old) replaceCard(old, { ...old._article, copy_count: folded.count, copies: folded.copies });
    }
    for (const [story, size] of Object.entries(data.stories || {})) {
      for (const old of list.querySelectorAll(`li.card[data-story="${CSS.escape(story)}"]`)) {
        if (old._article.story_size !== size) replaceCard(old, { ...old._article, story_size: size });
      }
    }
    while (list.children.length > MAX_CARDS) list.lastElementChild.remove();
    $("empty").hidden = list.children.length > 0;
    scheduleFacets();
  }

  // --- facets and active filters ----------------------------------------------------------

  function renderFacets(payload) {
    const nav = $("facets");
    nav.replaceChildren(...payload.facets.map((facet) => {
      const items = facet.values.map(({ value, count }) => {
        const button = el("button", { type: "button", class: hasFilter(facet.param, value) ? "on" : null, dataset: { param: facet.param, value }, "aria-pressed": String(hasFilter(facet.param, value)) },
          el("span", { class: "value", title: value }, value), el("span", { class: "n" }, count));
        return el("li", {}, button);
      });
      if (!items.length) items.push(el("li", { class: "none" }, "none yet"));
      return el("section", { class: "facet", dataset: { facet: facet.param } }, el("h3", {}, facet.label), el("ul", {}, items));
    }));
    renderCount(payload.total);
  }

  function renderActive() {
    const active = $("active");
    const chips = state.filters.map(([param, value]) =>
      el("button", { type: "button", class: "filter", dataset: { param, value }, title: "Remove this filter" },
        `${FILTER_LABELS[param]}: ${value}`, el("span", { class: "x", "aria-hidden": "true" }, "×")));
    if (state.q) {
      chips.unshift(el("button", { type: "button", class: "filter query", title: "Clear the search" },
        `“${state.q}”`, el("span", { class: "x", "aria-hidden": "true" }, "×")));
    }
    if (chips.length > 1) chips.push(el("button", { type: "button", class: "clear" }, "clear all"));
    active.replaceChildren(...chips);
  }

  function scheduleFacets() {
    clearTimeout(facetsTimer);
    facetsTimer = setTimeout(() => loadFacets().catch(showError), FACETS_DEBOUNCE_MS);
  }

  // --- alerts -----------------------------------------------------------------------------

  function alertItem(alert) {
    const href = safeHref(alert.url);
    const title = alert.title || alert.article_id || "(untitled)";
    const fragments = Object.values(alert.highlights || {}).flat().slice(0, 2);
    return el("li", { class: "alert", dataset: { id: alert.id || "" } },
      el("div", { class: "meta" },
        el("span", { class: "subscription" }, alert.subscription_id || "subscription"),
        alert.source ? el("span", {}, alert.source) : null,
        el("span", { class: "ago", title: `matched ${alert.matched_at || ""}`, dataset: { ingested: alert.matched_at || "" } }, ago(alert.matched_at))),
      href ? el("a", { class: "headline", href, target: "_blank", rel: "noopener noreferrer" }, title) : el("span", { class: "headline" }, title),
      fragments.map((fragment) => html("p", { class: "fragment" }, fragment)));
  }

  function addAlerts(alerts, fresh) {
    const list = $("alerts");
    const ordered = [...alerts].sort((a, b) => (a.matched_at || "").localeCompare(b.matched_at || ""));
    for (const alert of ordered) {
      if (alert.id && alertIds.has(alert.id)) continue;
      if (alert.id) alertIds.add(alert.id);
      const item = alertItem(alert);
      if (fresh) item.classList.add("fresh");
      list.prepend(item);
      if (!alertsCursor || (alert.matched_at || "") > alertsCursor) alertsCursor = alert.matched_at;
    }
    while (list.children.length > MAX_CARDS) list.lastElementChild.remove();
    $("no-alerts").hidden = list.children.length > 0;
    $("alert-count").textContent = list.children.length ? String(list.children.length) : "";
  }

  // --- loading ----------------------------------------------------------------------------

  async function getJson(path, signal) {
    const response = await fetch(path, { signal, headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || `${path}: HTTP ${response.status}`);
    return body;
  }

  async function loadFacets(signal) {
    renderFacets(await getJson(`/api/facets?${queryString()}`, signal));
  }

  function showError(error) {
    if (error && error.name === "AbortError") return;
    const banner = $("banner");
    banner.textContent = String(error && error.message ? error.message : error);
    banner.hidden = false;
    setStatus("down", "not connected");
  }

  function setStatus(stateName, label) {
    const status = $("status");
    status.dataset.state = stateName;
    status.querySelector(".label").textContent = label;
  }

  async function reload() {
    writeLocation();
    renderActive();
    $("q").value = state.q;
    $("sort").value = state.sort;
    if (loading) loading.abort();
    if (stream) { stream.close(); stream = null; }
    loading = new AbortController();
    const { signal } = loading;
    try {
      const [articles] = await Promise.all([
        getJson(`/api/articles?${queryString()}`, signal),
        loadFacets(signal),
      ]);
      renderArticles(articles);
      cursor = articles.cursor;
      $("banner").hidden = true;
      openStream();
    } catch (error) {
      showError(error);
      if (error.name !== "AbortError") setTimeout(() => { if (!stream) reload(); }, 3000);
    }
  }

  function openStream() {
    const qs = queryString({ since: cursor || EPOCH, alerts_since: alertsCursor || EPOCH });
    stream = new EventSource(`/api/stream?${qs}`);
    stream.addEventListener("articles", (event) => onArticles(JSON.parse(event.data)));
    stream.addEventListener("alerts", (event) => addAlerts(JSON.parse(event.data).alerts, true));
    stream.addEventListener("status", (event) => {
      const status = JSON.parse(event.data);
      if (!status.ok) { outage = true; showError(new Error(`${status.error} — retrying`)); return; }
      $("banner").hidden = true;
      setStatus("live", "live");
      // After an outage the sink catches up with documents stamped long before they became
      // searchable, possibly beyond the stream's look-back: load the list afresh once.
      if (outage) { outage = false; reload(); }
    });
    stream.addEventListener("open", () => setStatus("live", "live"));
    stream.addEventListener("error", () => {
      setStatus("connecting", "reconnecting…");
      // The browser retries by itself unless the server refused the stream outright.
      if (stream && stream.readyState === EventSource.CLOSED) { stream = null; setTimeout(reload, 3000); }
    });
  }

  async function loadInfo() {
    const info = await getJson("/api/info");
    $("namespace").textContent = info.namespace;
    document.title = `newsflow · ${info.namespace}`;
  }

  async function loadAlerts() {
    const payload = await getJson("/api/alerts");
    addAlerts(payload.alerts, false);
  }

  // --- events -----------------------------------------------------------------------------

  function onFilterClick(event) {
    const button = event.target.closest("button[data-param]");
    if (!button) return;
    const { param, value } = button.dataset;
    if (hasFilter(param, value)) removeFilter(param, value);
    else addFilter(param, value);
  }

  function onActiveClick(event) {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.classList.contains("clear")) { state.q = ""; state.filters = []; reload(); }
    else if (button.classList.contains("query")) { state.q = ""; reload(); }
    else removeFilter(button.dataset.param, button.dataset.value);
  }

  function start() {
    readLocation();
    $("search").addEventListener("submit", (event) => {
      event.preventDefault();
      state.q = $("q").value.trim();
      state.sort = $("sort").value;
      reload();
    });
    $("sort").addEventListener("change", () => { state.sort = $("sort").value; reload(); });
    $("facets").addEventListener("click", onFilterClick);
    $("articles").addEventListener("click", onFilterClick);
    $("active").addEventListener("click", onActiveClick);
    window.addEventListener("popstate", () => { readLocation(); reload(); });
    setInterval(() => {
      for (const node of document.querySelectorAll(".ago[data-ingested]")) node.textContent = ago(node.dataset.ingested);
    }, 30000);
    loadInfo().catch(showError);
    // Alerts first, so that the stream starts after the newest alert already shown.
    loadAlerts().catch(showError).finally(reload);
  }

  start();
})();
