import { describe, expect, it } from "vitest";
import type { Verdict, Violation } from "../../src/engine/index.js";
import {
  annotationKey,
  boundAuditAnnotations,
  boundedLine,
  boundWarnings,
  reviewOfVerdict,
  truncateRunes,
  WARNING_MAX_RUNES,
  WARNINGS_MAX_COUNT,
  WARNINGS_MAX_TOTAL_RUNES,
} from "../../src/server/response.js";
import { codePointWork, regexWork } from "../support/work.js";

function violation(policy: string, action: Violation["action"], message: string): Violation {
  return {
    policy,
    title: policy,
    checklist: { section: "s", item: "i" },
    severity: "high",
    action,
    message,
    path: "spec.containers[0].image",
    resource: { apiVersion: "v1", kind: "Pod", namespace: "apps", name: "p" },
    container: "app",
  };
}

function verdict(overrides: Partial<Verdict>): Verdict {
  return {
    allowed: true,
    mode: "enforce",
    skipped: undefined,
    results: [],
    violations: [],
    excepted: [],
    warnings: [],
    auditAnnotations: {},
    patch: [],
    mutatedBy: [],
    evaluated: [],
    ...overrides,
  };
}

describe("warnings", () => {
  it("are single lines of at most 256 characters, cut on a character boundary", () => {
    const long = `${"é".repeat(200)}\n${"🙂".repeat(200)}`;
    const [warning] = boundWarnings([long]);
    expect([...(warning ?? "")]).toHaveLength(WARNING_MAX_RUNES);
    expect(warning).toMatch(/…$/);
    expect(warning).not.toContain("\n");
    expect(warning).not.toMatch(/[\uD800-\uDBFF]$/);
  });

  it("are deduplicated and kept as they are when few and short", () => {
    expect(boundWarnings(["a: x", "a: x", "b: y"])).toEqual(["a: x", "b: y"]);
  });

  it("are capped in number and total size, ending with a summary", () => {
    const many = Array.from({ length: 40 }, (_, i) => `policy-${i}: ${"x".repeat(200)}`);
    const warnings = boundWarnings(many);
    expect(warnings.length).toBeLessThanOrEqual(WARNINGS_MAX_COUNT);
    const total = warnings.reduce((sum, w) => sum + [...w].length, 0);
    expect(total).toBeLessThanOrEqual(WARNINGS_MAX_TOTAL_RUNES);
    expect(warnings[0]).toBe(many[0]);
    expect(warnings.at(-1)).toMatch(/^tollgate: \d+ more warnings not shown/);
  });

  it("cuts text cleanly", () => {
    expect(truncateRunes("short", 10)).toBe("short");
    expect(truncateRunes("abcdefghijkl", 5)).toBe("abcd…");
    expect(truncateRunes("🙂".repeat(5), 5)).toBe("🙂".repeat(5));
    expect(truncateRunes("🙂".repeat(6), 5)).toBe(`${"🙂".repeat(4)}…`);
    expect(truncateRunes(`${"a".repeat(9)}🙂`, 10)).toBe(`${"a".repeat(9)}🙂`);
  });

  it("a long text becomes the same line as the whole text would", () => {
    const text = `first\n\tline ${"é🙂".repeat(5_000)}`;
    const whole = truncateRunes(text.replace(/[\n\t]+/g, " "), 100);
    expect(boundedLine(text, 100)).toBe(whole);
    expect([...boundedLine(text, 100)]).toHaveLength(100);
  });
});

describe("the answer's cost", () => {
  /** Regex characters scanned and code points iterated to answer a verdict quoting a `size`-long name. */
  function work(size: number): number {
    const name = "n".repeat(size);
    const violations = Array.from({ length: 40 }, (_, i) =>
      violation(`policy-${i}`, i % 2 === 0 ? "deny" : "warn", `Pod "${name}\n": runs privileged`),
    );
    const messages = violations.map((v) => v.message);
    const counted = regexWork(() =>
      codePointWork(() =>
        reviewOfVerdict(
          "u",
          verdict({
            allowed: false,
            violations,
            warnings: messages,
            auditAnnotations: Object.fromEntries(violations.map((v) => [v.policy, v.message])),
          }),
          false,
        ),
      ),
    );
    return counted.characters + counted.result.codePoints;
  }

  it("does not grow with the length of a field the messages quote", () => {
    // Before, every message was split into code points and scanned whole:
    // a 1 MiB name in 40 messages blocked the server for about a second.
    expect(work(2 ** 20)).toBe(work(2 ** 14));
    expect(work(2 ** 14)).toBeLessThan(40 * 3 * 4 * 1024);
  });
});

describe("audit annotations", () => {
  it("have keys that are valid qualified-name parts", () => {
    expect(annotationKey("privileged")).toBe("privileged");
    expect(annotationKey("host/path policy!")).toBe("host-path-policy");
    expect(annotationKey("-x-")).toBe("x");
    expect(annotationKey("///")).toBeUndefined();
    const long = annotationKey(`${"a".repeat(62)}.-b`);
    expect(long).toBe("a".repeat(62));
    for (const key of ["privileged", "a.b_c-d", long ?? ""]) {
      expect(`validate.tollgate.dev/${key}`).toMatch(
        /^[a-z0-9.-]+\/([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/,
      );
      expect(key.length).toBeLessThanOrEqual(63);
    }
  });

  it("have bounded values and are omitted when empty", () => {
    expect(boundAuditAnnotations({})).toBeUndefined();
    const bounded = boundAuditAnnotations({ p: "v".repeat(5000) });
    expect([...(bounded?.p ?? "")]).toHaveLength(1024);
  });
});

describe("reviewOfVerdict", () => {
  it("denies with a 403 listing only the violations that deny", () => {
    const review = reviewOfVerdict(
      "u",
      verdict({
        allowed: false,
        violations: [
          violation("privileged", "deny", 'Pod "p" container "app": runs privileged; fix it'),
          violation("probes", "warn", 'Pod "p" container "app": has no probe'),
        ],
        warnings: ["probes: has no probe"],
      }),
      false,
    );
    expect(review.apiVersion).toBe("admission.k8s.io/v1");
    expect(review.kind).toBe("AdmissionReview");
    expect(review.response.status).toEqual({
      status: "Failure",
      code: 403,
      reason: "Forbidden",
      message:
        '1 AKS checklist violation must be fixed:\n- privileged: Pod "p" container "app": runs privileged; fix it (field spec.containers[0].image)',
    });
    expect(review.response.warnings).toEqual(["probes: has no probe"]);
  });

  it("lists at most 20 violations", () => {
    const violations = Array.from({ length: 25 }, (_, i) =>
      violation(`p${i}`, "deny", `Pod "p": problem ${i}`),
    );
    const message = reviewOfVerdict("u", verdict({ allowed: false, violations }), false).response
      .status?.message;
    expect(message?.split("\n")).toHaveLength(22);
    expect(message).toMatch(/- … and 5 more$/);
  });

  it("includes a patch only on the mutating endpoint and only when there are operations", () => {
    const patch = [{ op: "add" as const, path: "/spec/x", value: false }];
    const mutated = verdict({ patch, mutatedBy: ["x"] });
    expect(reviewOfVerdict("u", mutated, true).response).toEqual({
      uid: "u",
      allowed: true,
      patchType: "JSONPatch",
      patch: Buffer.from(JSON.stringify(patch)).toString("base64"),
    });
    expect(reviewOfVerdict("u", mutated, false).response).toEqual({ uid: "u", allowed: true });
    expect(reviewOfVerdict("u", verdict({}), true).response).toEqual({ uid: "u", allowed: true });
  });
});
