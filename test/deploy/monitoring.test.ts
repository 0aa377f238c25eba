// The monitoring component's alert rules, checked by Prometheus' own promtool:
// `promtool check rules` (syntax, templates) and `promtool test rules`
// (test/deploy/monitoring/alerts.test.yaml: each alert fires on its failure and
// stays quiet when healthy). The rules are taken from the rendered
// PrometheusRule, exactly as the Prometheus Operator would load them.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { tool } from "./helm.js";
import { find, REPO, render } from "./render.js";

const ALERTS = `${REPO}test/deploy/monitoring/alerts.test.yaml`;

interface AlertTests {
  tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

function promtool(args: string[], cwd: string) {
  const result = spawnSync(tool("promtool"), args, { cwd, encoding: "utf8", timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("deploy/components/monitoring alert rules", () => {
  const objects = render("../test/deploy/helm-overlays/monitoring");
  const rule = find(objects, "PrometheusRule", "tollgate");
  const dir = mkdtempSync(join(tmpdir(), "tollgate-rules-"));
  writeFileSync(join(dir, "rules.yaml"), stringify(rule.spec));
  copyFileSync(ALERTS, join(dir, "alerts.test.yaml"));

  it("pass promtool check rules", () => {
    const result = promtool(["check", "rules", "rules.yaml"], dir);
    expect(result.output).toContain("SUCCESS: 8 rules found");
    expect(result.status, result.output).toBe(0);
  });

  it("pass promtool test rules", () => {
    const result = promtool(["test", "rules", "alerts.test.yaml"], dir);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain("SUCCESS");
  });

  it("has a promtool case where each alert fires", () => {
    const alerts = (rule.spec as { groups: { rules: { alert: string }[] }[] }).groups.flatMap((g) =>
      g.rules.map((r) => r.alert),
    );
    const cases = (parse(readFileSync(ALERTS, "utf8")) as AlertTests).tests.flatMap(
      (t) => t.alert_rule_test ?? [],
    );
    for (const alert of new Set(alerts)) {
      const fired = cases.filter((c) => c.alertname === alert && c.exp_alerts.length > 0);
      expect(fired.length, `${alert} never fires in ${ALERTS}`).toBeGreaterThan(0);
    }
  });
});
