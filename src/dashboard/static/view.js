// DOM helpers. Every string from the audit becomes a text node or an
// attribute set through setAttribute: nothing is ever parsed as HTML.

const numbers = new Intl.NumberFormat("en");

/** A whole number with thousands separators. */
export function count(n) {
  return numbers.format(n);
}

/**
 * Creates an element. `attrs` are attributes (values are strings, set as
 * such); children are nodes, strings (added as text) or falsy (skipped).
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
  }
  return node;
}

/** A link inside the page: hash routes with every part URI-encoded. */
export function route(...parts) {
  return `#/${parts.map((p) => encodeURIComponent(p)).join("/")}`;
}

export function link(parts, text, attrs = {}) {
  return el("a", { href: route(...parts), ...attrs }, text);
}

/** A table with a caption, header cells and rows of cells (strings or nodes). */
export function table(caption, headers, rows, attrs = {}, { hiddenCaption = false } = {}) {
  const head = el(
    "tr",
    {},
    headers.map((h) => el("th", { scope: "col" }, h)),
  );
  const body = el("tbody");
  for (const row of rows) body.append(tableRow(row));
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      attrs,
      el("caption", { class: hiddenCaption ? "visually-hidden" : undefined }, caption),
      el("thead", {}, head),
      body,
    ),
  );
}

export function tableRow(cells) {
  return el(
    "tr",
    {},
    cells.map((cell, i) =>
      i === 0
        ? el("th", { scope: "row" }, cell)
        : el("td", numeric(cell) ? { class: "num" } : {}, cell),
    ),
  );
}

function numeric(cell) {
  return typeof cell === "number";
}

export function severityBadge(severity) {
  return el("span", { class: `sev sev-${severity}` }, severity);
}

export function statusBadge(status) {
  return el("span", { class: `status-badge st-${status}` }, status);
}

export function section(title, ...children) {
  const id = `s-${title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return el(
    "section",
    { class: "panel", "aria-labelledby": id },
    el("h3", { id }, title),
    ...children,
  );
}

/** Replaces the main content and moves focus to its heading, for keyboard and screen readers. */
export function show(main, title, ...children) {
  const heading = el("h2", { class: "view-title", tabindex: "-1" }, title);
  main.replaceChildren(heading, ...children.flat().filter(Boolean));
  document.title = `${title} · Tollgate dashboard`;
  return heading;
}
