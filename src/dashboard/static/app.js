// The dashboard page: reads the audit from this server's JSON endpoints and
// shows it. Routes are hashes: #/ overview, #/namespaces, #/namespace/<name>,
// #/policy/<id>, #/cluster.

import { clearCharts, sectionChart, severityChart, trendChart } from "./charts.js";
import {
  count,
  el,
  link,
  section,
  severityBadge,
  show,
  statusBadge,
  table,
  tableRow,
} from "./view.js";

const main = document.getElementById("main");
const status = document.getElementById("status");
const refreshButton = document.getElementById("refresh");
const sourceLabel = document.getElementById("source-label");
const PAGE = 100;

let overview;

async function getJson(path, init) {
  const response = await fetch(path, init);
  const body = await response.json();
  return { ok: response.ok, status: response.status, body };
}

function say(message) {
  status.textContent = message;
}

async function loadOverview() {
  const { body } = await getJson("api/overview");
  overview = body;
  const { source } = body;
  const when = body.audit ? `, audited ${new Date(body.audit.finishedAt).toLocaleString()}` : "";
  sourceLabel.textContent = `${source.mode === "file" ? "File" : source.mode === "live" ? "Live" : "In-cluster"}: ${source.label}${when}`;
  refreshButton.hidden = !source.refreshable;
  if (source.error) say(`The last audit failed: ${source.error}`);
  else if (source.loading || !body.audit) say("Auditing the cluster…");
  else say("");
  return body;
}

function scorePanel(o) {
  const s = o.score;
  return el(
    "section",
    { class: "panel score", "aria-labelledby": "score-title" },
    el("h3", { id: "score-title" }, "Checklist score"),
    el("p", { class: "big", "data-testid": "score-percent" }, `${s.percent}%`),
    el(
      "p",
      {},
      el("span", { "data-testid": "score-passed" }, count(s.passed)),
      " of ",
      el("span", { "data-testid": "score-in-reach" }, count(s.inReach)),
      " checklist items in reach pass; ",
      el("span", { "data-testid": "score-failed" }, count(s.failed)),
      " fail and ",
      el("span", { "data-testid": "score-out-of-reach" }, count(s.outOfReach)),
      " are out of reach of an audit or were not judged in this run.",
    ),
    el(
      "p",
      {},
      `${count(o.audit.findings)} findings · ${count(o.namespaces.length)} namespaces · `,
      `Kubernetes ${o.audit.serverVersion} · policy set: ${o.audit.policySet}`,
    ),
  );
}

function chartsPanel(o) {
  const trend =
    o.trend.length >= 2
      ? trendChart(o.trend)
      : el(
          "p",
          { class: "muted" },
          o.source.mode === "file"
            ? "A saved audit is one run: the score trend shows on a live or in-cluster dashboard after two runs."
            : "The score trend appears after two runs.",
        );
  return section(
    "At a glance",
    el(
      "div",
      { class: "charts" },
      el(
        "figure",
        {},
        el("figcaption", {}, "Checklist items per section"),
        sectionChart(o.score.sections),
      ),
      el("figure", {}, el("figcaption", {}, "Findings by severity"), severityChart(o.bySeverity)),
      el("figure", {}, el("figcaption", {}, "Score trend"), trend),
    ),
  );
}

function itemList(o, name) {
  const items = o.score.items.filter((i) => i.section === name);
  return el(
    "ul",
    { class: "items" },
    items.map((i) =>
      el(
        "li",
        {},
        statusBadge(i.status),
        " ",
        i.item,
        i.coverage === "partial" ? el("span", { class: "muted" }, " (partly judged)") : "",
        i.status === "fail" ? ` — ${count(i.findings)} findings` : "",
        i.reason ? el("span", { class: "muted" }, ` (${i.reason})`) : "",
      ),
    ),
  );
}

function sectionsPanel(o) {
  return section(
    "Score per checklist section",
    table(
      "Checklist items per section",
      ["Section", "Pass", "Fail", "Out of reach"],
      o.score.sections.map((s) => [s.section, s.pass, s.fail, s.outOfReach]),
      { "data-testid": "sections" },
    ),
    o.score.sections.map((s) =>
      el("details", {}, el("summary", {}, `${s.section}: every item`), itemList(o, s.section)),
    ),
  );
}

function severityCells(counts) {
  return [counts.critical, counts.high, counts.medium, counts.low];
}

function policiesPanel(o) {
  if (o.policies.length === 0) return section("Findings by policy", el("p", {}, "No findings."));
  return section(
    "Findings by policy",
    table(
      "Findings per policy and cluster check, most severe first",
      ["Policy", "Severity", "Title", "Checklist item", "Findings", "Namespaces"],
      o.policies.map((p) => [
        link(["policy", p.policy], p.policy),
        severityBadge(p.severity),
        p.title,
        `${p.section}: ${p.item}`,
        p.findings,
        p.namespaces,
      ]),
      { "data-testid": "policies" },
    ),
  );
}

const SORTS = {
  name: (a, b) => a.namespace.localeCompare(b.namespace),
  score: (a, b) => a.percent - b.percent || b.findings - a.findings,
  findings: (a, b) => b.findings - a.findings,
};

function namespaceRow(n) {
  return tableRow([
    link(["namespace", n.namespace], n.namespace),
    n.percent,
    n.pass,
    n.fail,
    n.warn,
    n.findings,
    ...severityCells(n.bySeverity),
    n.failingItems,
  ]);
}

/** The namespace table, filtered, sorted and shown a page at a time. */
function namespacesPanel(o, { limit } = { limit: PAGE }) {
  const filter = el("input", { type: "search", id: "ns-filter", autocomplete: "off" });
  const sort = el(
    "select",
    { id: "ns-sort" },
    el("option", { value: "name" }, "name"),
    el("option", { value: "score" }, "lowest score first"),
    el("option", { value: "findings" }, "most findings first"),
  );
  const more = el("button", { type: "button" }, "Show more");
  const shown = el("p", { class: "muted", "aria-live": "polite" });
  const tableBox = table(
    "Score and results per namespace",
    [
      "Namespace",
      "Score (%)",
      "Pass",
      "Fail",
      "Warn",
      "Findings",
      "Critical",
      "High",
      "Medium",
      "Low",
      "Failing items",
    ],
    [],
    { "data-testid": "namespaces" },
  );
  const body = tableBox.querySelector("tbody");
  let max = limit;
  const render = () => {
    const needle = filter.value.trim().toLowerCase();
    const rows = o.namespaces
      .filter((n) => !needle || n.namespace.includes(needle))
      .sort(SORTS[sort.value]);
    body.replaceChildren(...rows.slice(0, max).map(namespaceRow));
    shown.textContent = `Showing ${count(Math.min(max, rows.length))} of ${count(rows.length)} namespaces.`;
    more.hidden = rows.length <= max;
  };
  filter.addEventListener("input", () => {
    max = limit;
    render();
  });
  sort.addEventListener("change", render);
  more.addEventListener("click", () => {
    max += PAGE;
    render();
  });
  render();
  return section(
    "Score per namespace",
    el(
      "p",
      { class: "muted" },
      "A namespace's score is the share of its policy results that pass. Select a namespace to see each resource's findings.",
    ),
    el(
      "div",
      { class: "controls" },
      el("label", { for: "ns-filter" }, "Filter namespaces"),
      filter,
      el("label", { for: "ns-sort" }, "Sort by"),
      sort,
    ),
    tableBox,
    shown,
    more,
  );
}

function daysUntil(iso) {
  return Math.ceil((Date.parse(iso) - Date.now()) / 86_400_000);
}

function expiry(iso) {
  if (!iso) return "never";
  const days = daysUntil(iso);
  if (Number.isNaN(days)) return iso;
  if (days < 0) return el("span", { class: "st-fail" }, `expired ${iso}`);
  return `${iso} (in ${days} day${days === 1 ? "" : "s"})`;
}

function exceptionsPanel(o) {
  if (o.exceptions === null) {
    return section("Exceptions", el("p", { class: "muted" }, "This audit reports no exceptions."));
  }
  return section(
    "Exceptions",
    table(
      "Exceptions in force and when they expire",
      ["Name", "Namespace", "Policies", "Expires", "Findings covered", "Reason"],
      o.exceptions.map((x) => [
        x.name,
        x.namespace ?? "all",
        (x.policies ?? []).join(", ") || "all",
        expiry(x.expires),
        x.findings ?? "",
        x.reason ?? "",
      ]),
      { "data-testid": "exceptions" },
    ),
  );
}

function notesPanel(o) {
  const notes = [...o.audit.notes, o.audit.version.message];
  return section(
    "Notes",
    el(
      "ul",
      {},
      notes.map((n) => el("li", {}, n)),
    ),
  );
}

function renderOverview(o) {
  return [
    el("div", { class: "cols" }, scorePanel(o), clusterSummary(o)),
    chartsPanel(o),
    sectionsPanel(o),
    policiesPanel(o),
    namespacesPanel(o),
    exceptionsPanel(o),
    notesPanel(o),
  ];
}

function clusterSummary(o) {
  const failing = o.checks.filter((c) => c.status === "fail").length;
  return section(
    "Cluster-level checks",
    el("p", { class: "big" }, `${o.checks.length - failing} / ${o.checks.length}`),
    el(
      "p",
      {},
      `checks pass; they found ${count(o.checks.reduce((n, c) => n + c.findings, 0))} problems.`,
    ),
    link(["cluster"], "See the cluster checks"),
  );
}

function findingRow(f, withNamespace, withException) {
  return tableRow([
    f.policy,
    severityBadge(f.severity),
    f.action,
    ...(withNamespace ? [f.namespace ?? "(cluster)"] : []),
    f.message,
    f.path ? el("code", {}, f.path) : "",
    f.fix,
    ...(withException ? [f.exception ?? ""] : []),
  ]);
}

/** Findings grouped by resource, each a table. */
function resourceList(list, withNamespace) {
  if (list.total === 0) return [el("p", {}, "No findings.")];
  const withException = list.resources.some((r) => r.findings.some((f) => f.exception));
  const headers = [
    "Policy",
    "Severity",
    "Action",
    ...(withNamespace ? ["Namespace"] : []),
    "Message",
    "Field path",
    "Fix",
    ...(withException ? ["Exception"] : []),
  ];
  const groups = list.resources.map((r) => {
    const title = r.name ? `${r.kind} ${r.name}` : r.kind;
    const box = table(title, headers, [], { class: "findings" }, { hiddenCaption: true });
    box
      .querySelector("tbody")
      .append(...r.findings.map((f) => findingRow(f, withNamespace, withException)));
    return el(
      "section",
      { class: "resource", "data-testid": "resource" },
      el("h4", {}, title),
      box,
    );
  });
  const omitted =
    list.omitted > 0
      ? el("p", {}, `${count(list.omitted)} less severe findings are not listed here.`)
      : "";
  return [
    el("p", {}, `${count(list.total)} findings on ${count(list.resources.length)} resources.`),
    omitted,
    ...groups,
  ];
}

async function renderNamespace(name) {
  const { ok, body } = await getJson(`api/namespaces/${encodeURIComponent(name)}`);
  if (!ok) return show(main, `Namespace ${name}`, el("p", {}, body.message));
  const n = body.namespace;
  return show(
    main,
    `Namespace ${name}`,
    el(
      "p",
      { "data-testid": "namespace-counts" },
      `Score ${n.percent}% · ${count(n.pass)} pass, ${count(n.fail)} fail, ${count(n.warn)} warn · ${count(n.failingItems)} failing checklist items`,
    ),
    link([], "Back to the overview"),
    ...resourceList(body, false),
  );
}

async function renderPolicy(id) {
  const { ok, body } = await getJson(`api/policies/${encodeURIComponent(id)}`);
  if (!ok) return show(main, `Policy ${id}`, el("p", {}, body.message));
  const p = body.policy;
  return show(
    main,
    `Policy ${id}`,
    el("p", {}, severityBadge(p.severity), ` ${p.title} · checklist: ${p.section}: ${p.item}`),
    ...resourceList(body, true),
  );
}

async function renderCluster() {
  const { ok, body } = await getJson("api/cluster");
  if (!ok) return show(main, "Cluster checks", el("p", {}, body.message));
  return show(
    main,
    "Cluster checks",
    table(
      "Cluster-level checks",
      ["Check", "Status", "Title", "Checklist item", "Severity", "Findings", "Passes"],
      body.checks.map((c) => [
        c.id,
        statusBadge(c.status),
        c.title,
        `${c.checklist.section}: ${c.checklist.item}`,
        severityBadge(c.severity),
        c.findings,
        c.passes,
      ]),
      { "data-testid": "checks" },
    ),
    el("h3", {}, "Cluster-level findings"),
    ...resourceList(body, true),
  );
}

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  return { view: parts[0] || "overview", arg: parts.slice(1).join("/") };
}

async function render() {
  clearCharts();
  const { view, arg } = parseRoute();
  try {
    if (!overview?.audit) await loadOverview();
    if (!overview.audit) {
      show(main, "Waiting for the first audit");
      setTimeout(render, 2000);
      return;
    }
    let heading;
    if (view === "namespace") heading = await renderNamespace(arg);
    else if (view === "policy") heading = await renderPolicy(arg);
    else if (view === "cluster") heading = await renderCluster();
    else if (view === "namespaces") heading = show(main, "Namespaces", namespacesPanel(overview));
    else heading = show(main, "Overview", renderOverview(overview));
    if (view !== "overview") heading.focus();
  } catch (error) {
    say(`The dashboard could not read the audit: ${error.message}`);
  }
}

refreshButton.addEventListener("click", async () => {
  refreshButton.disabled = true;
  say("Auditing the cluster…");
  try {
    const { body } = await getJson("api/refresh", {
      method: "POST",
      headers: { "x-tollgate-refresh": "1" },
    });
    overview = undefined;
    await render();
    if (body.error) say(`The audit failed: ${body.error}`);
    else say("Audit refreshed.");
  } finally {
    refreshButton.disabled = false;
  }
});

window.addEventListener("hashchange", render);
render();
