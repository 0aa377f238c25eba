import type { AuditFinding, AuditResult, WriteSummary } from "../audit/index.js";
import { summaryOf } from "../audit/summary.js";

export type TextSink = (text: string) => void | Promise<void>;

export interface JsonHeader {
  endpoint: string;
  policySet: string;
  namespaces: readonly string[] | undefined;
  maxResults: number;
  startedAt: Date;
}

function indent(json: string, by: string): string {
  return json.replace(/\n/g, `\n${by}`);
}

/**
 * Writes the audit as one JSON document, incrementally: the header, then
 * every finding as soon as it is found (one per line inside `findings`, never
 * held in memory, so the cap of the reports does not apply here), then
 * the summary, namespaces, score and exit code once the audit is over. The
 * document is valid JSON at the end even when the audit fails midway: it
 * then closes with an `error` member instead of the summary.
 */
export class JsonAuditWriter {
  private findings = 0;
  private open = false;

  constructor(private readonly sink: TextSink) {}

  async start(header: JsonHeader): Promise<void> {
    const lines = [
      "{",
      `  "apiVersion": "tollgate.dev/v1alpha1",`,
      `  "kind": "AuditResult",`,
      `  "server": ${JSON.stringify(header.endpoint)},`,
      `  "policySet": ${JSON.stringify(header.policySet)},`,
      `  "namespaceFilter": ${JSON.stringify(header.namespaces ?? null)},`,
      `  "maxResults": ${header.maxResults},`,
      `  "startedAt": ${JSON.stringify(header.startedAt.toISOString())},`,
      `  "findings": [`,
    ];
    this.open = true;
    await this.sink(lines.join("\n"));
  }

  async finding(finding: AuditFinding): Promise<void> {
    const separator = this.findings === 0 ? "\n" : ",\n";
    this.findings++;
    await this.sink(`${separator}    ${JSON.stringify(finding)}`);
  }

  private closeFindings(): string {
    this.open = false;
    return this.findings === 0 ? "]" : "\n  ]";
  }

  async end(
    result: AuditResult,
    extra: { reports?: WriteSummary | undefined; exitCode: number },
  ): Promise<void> {
    const namespaces = result.namespaces.map((namespace) => {
      const b = result.tally.bucket(namespace);
      return { namespace, ...b.counts, omitted: b.omitted };
    });
    const cluster = result.tally.bucket("");
    const score = {
      ...result.score,
      items: result.score.items.map(({ examples: _examples, ...item }) => item),
    };
    const members: [string, unknown][] = [
      ["summary", summaryOf(result)],
      ["namespaces", namespaces],
      ["clusterReport", { ...cluster.counts, omitted: cluster.omitted }],
      ["score", score],
      // Each PolicyException honoured: the findings it covered, and whether it
      // has expired or ends within 14 days (expiresSoon).
      ["exceptions", result.exceptions],
      ["reports", extra.reports ?? null],
      ["exitCode", extra.exitCode],
    ];
    const body = members
      .map(
        ([key, value]) =>
          `  ${JSON.stringify(key)}: ${indent(JSON.stringify(value, null, 2), "  ")}`,
      )
      .join(",\n");
    await this.sink(`${this.closeFindings()},\n${body}\n}\n`);
  }

  /** Closes the document after a failure; a no-op when it was never started. */
  async fail(message: string, exitCode: number): Promise<void> {
    if (!this.open) return;
    await this.sink(
      `${this.closeFindings()},\n  "error": ${JSON.stringify(message)},\n  "exitCode": ${exitCode}\n}\n`,
    );
  }
}
