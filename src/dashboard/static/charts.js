// Charts drawn with Chart.js (served by this server from the chart.js
// package). Each canvas is labelled for screen readers and the same numbers
// are in a table next to it.

import { el } from "./view.js";

/** Colours chosen for at least 3:1 contrast against white, and told apart by label too. */
export const COLORS = {
  pass: "#1a7f37",
  fail: "#c62828",
  outOfReach: "#6e7781",
  critical: "#8b0000",
  high: "#c62828",
  medium: "#9a6700",
  low: "#0969da",
  line: "#0550ae",
};

const charts = new Set();

/** Destroys the charts of the previous view. */
export function clearCharts() {
  for (const chart of charts) chart.destroy();
  charts.clear();
}

function chartLibrary() {
  return globalThis.Chart;
}

/** A canvas in a sized box, labelled; returns [box, canvas]. */
function canvasBox(label, className) {
  const canvas = el("canvas", { role: "img", "aria-label": label });
  canvas.append(label);
  return [el("div", { class: `chart ${className ?? ""}` }, canvas), canvas];
}

function draw(canvas, config) {
  const Chart = chartLibrary();
  if (!Chart) return;
  config.options = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    ...config.options,
  };
  charts.add(new Chart(canvas, config));
}

/** Checklist items per section: pass, fail, out of reach, stacked. */
export function sectionChart(sections) {
  const [box, canvas] = canvasBox(
    "Checklist items per section: passing, failing and out of reach; the table below has the numbers",
    "tall",
  );
  queueMicrotask(() =>
    draw(canvas, {
      type: "bar",
      data: {
        labels: sections.map((s) => s.section),
        datasets: [
          { label: "pass", data: sections.map((s) => s.pass), backgroundColor: COLORS.pass },
          { label: "fail", data: sections.map((s) => s.fail), backgroundColor: COLORS.fail },
          {
            label: "out of reach",
            data: sections.map((s) => s.outOfReach),
            backgroundColor: COLORS.outOfReach,
          },
        ],
      },
      options: {
        indexAxis: "y",
        scales: { x: { stacked: true, ticks: { precision: 0 } }, y: { stacked: true } },
      },
    }),
  );
  return box;
}

/** Findings by severity. */
export function severityChart(bySeverity) {
  const labels = Object.keys(bySeverity);
  const [box, canvas] = canvasBox(
    `Findings by severity: ${labels.map((s) => `${s} ${bySeverity[s]}`).join(", ")}`,
  );
  queueMicrotask(() =>
    draw(canvas, {
      type: "bar",
      data: {
        labels,
        datasets: [
          {
            label: "findings",
            data: labels.map((s) => bySeverity[s]),
            backgroundColor: labels.map((s) => COLORS[s]),
          },
        ],
      },
      options: {
        plugins: { legend: { display: false } },
        scales: { y: { ticks: { precision: 0 } } },
      },
    }),
  );
  return box;
}

/** The checklist score over past runs. */
export function trendChart(trend) {
  const first = trend[0];
  const last = trend[trend.length - 1];
  const [box, canvas] = canvasBox(
    `Checklist score over the last ${trend.length} runs, from ${first.percent}% to ${last.percent}%`,
  );
  queueMicrotask(() =>
    draw(canvas, {
      type: "line",
      data: {
        labels: trend.map((p) => new Date(p.finishedAt).toLocaleString()),
        datasets: [
          {
            label: "checklist score (%)",
            data: trend.map((p) => p.percent),
            borderColor: COLORS.line,
            backgroundColor: COLORS.line,
            pointRadius: trend.length > 50 ? 0 : 3,
          },
        ],
      },
      options: { scales: { y: { min: 0, max: 100 } } },
    }),
  );
  return box;
}
