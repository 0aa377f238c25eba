// `tollgate policies -o vap` against the real kube-apiserver: every generated
// ValidatingAdmissionPolicy is accepted, each decides every pass and fail
// example of its policy and every Pod Security Standards fixture as the engine
// does (one namespace per policy, since the API server names only the first
// VAP that denies), and with Tollgate stopped the API server itself denies a
// privileged Pod in an enforced namespace.
import { KubernetesObjectApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../../src/engine/index.js";
import { tollgate, workspace } from "../cli/support.js";
import { exampleObjects } from "../support/policies.js";
import { loadPssFixtures, type PssFixture } from "../support/pss.js";
import { EngineJudge, exportOf, resolvedOf } from "../support/vap-export.js";
import { api, isLocal, kubeConfig } from "./support/cluster.js";
import { apply, expectSuccess, kubectl } from "./support/kubectl.js";
import { compliantPod, privileged } from "./support/manifests.js";
import {
  cleanupNamespaces,
  createNamespace,
  MODE_LABEL,
  uniqueName,
} from "./support/namespaces.js";
import { startTollgate, stopTollgate, tollgatePid } from "./support/tollgate.js";

/** The VAPs that deny a privileged container (it cannot keep allowPrivilegeEscalation false). */
const PRIVILEGED_VAPS = /^tollgate-(privileged|privilege-escalation)$/;
const VAP_KINDS = new Set(["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]);
const POLICY_LABEL = "tollgate.dev/policy";
const TEST_LABEL = "tollgate.test/vap-export";
/** Who the dry runs come from, for the engine's side (the kubeconfig's user is no controller). */
const USER = "e2e-admin";

async function generated(config?: string): Promise<KubeObject[]> {
  const run = await tollgate(["policies", "-o", "vap", ...(config ? ["--config", config] : [])]);
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return parseAllDocuments(run.stdout)
    .map((d) => d.toJSON() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

function policyOf(object: KubeObject): string {
  const labels = (object.metadata?.labels ?? {}) as Record<string, string>;
  return labels[POLICY_LABEL] ?? "";
}

let objectApi: KubernetesObjectApi | undefined;

/**
 * What the API server did with a dry-run create: admitted, denied by a VAP
 * (its name), found invalid by its decoding or its own validation (both run
 * before the validating admission policies, so they never saw it), or
 * refused otherwise.
 */
async function dryRun(
  object: KubeObject,
): Promise<{ deniedBy?: string; invalid?: string; refused?: string }> {
  objectApi ??= KubernetesObjectApi.makeApiClient(kubeConfig());
  try {
    await objectApi.create(object as never, undefined, "All");
    return {};
  } catch (error) {
    const { body, code } = error as { body?: unknown; code?: number };
    const text = typeof body === "string" ? body : JSON.stringify(body ?? String(error));
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      // not JSON: keep the text
    }
    const denied = /ValidatingAdmissionPolicy '([^']+)' with binding '[^']+' denied request/.exec(
      message,
    );
    if (denied) return { deniedBy: denied[1] };
    // 422: the object's validation; 400: it does not even decode as its kind.
    return code === 422 || code === 400 ? { invalid: message } : { refused: message };
  }
}

/** Runs `work` over `items`, `width` at a time. */
async function pooled<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i] as T);
      }
    }),
  );
  return results;
}

/** `kubectl apply` with the objects as JSON: kubectl reads YAML as 1.1, where `off` is false. */
function applyJson(objects: readonly object[]) {
  return kubectl(["apply", "-f", "-"], {
    input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
  });
}

async function removeVaps(objects: readonly KubeObject[]) {
  const items = objects.filter((o) => VAP_KINDS.has(o.kind ?? ""));
  await kubectl(["delete", "-f", "-", "--ignore-not-found", "--wait=false"], {
    input: JSON.stringify({ apiVersion: "v1", kind: "List", items }),
  });
}

describe.runIf(isLocal())("tollgate policies -o vap in the real API server", () => {
  const resolved = resolvedOf();
  const exported = exportOf(resolved);
  const engine = new EngineJudge(resolved, exported.exported);
  /** Each exported policy's own namespace: labelled off, so Tollgate's webhooks leave it alone. */
  const namespaces = new Map<string, string>();
  let objects: KubeObject[] = [];
  let pss: PssFixture[] = [];

  beforeAll(async () => {
    objects = await generated();
    // The CLI prints exactly what the exporter builds.
    expect(objects).toEqual(exported.objects);
    for (const id of exported.exported) {
      const name = uniqueName("vapx", id).slice(0, 63).replace(/-$/, "");
      await api().core.createNamespace({
        body: { metadata: { name, labels: { [MODE_LABEL]: "off", [TEST_LABEL]: id } } },
      });
      namespaces.set(id, name);
    }
    // Each binding selects its policy's namespace only (default-namespace's: default too).
    const bound = objects.map((o) => {
      if (o.kind !== "ValidatingAdmissionPolicyBinding") return o;
      const id = policyOf(o);
      const spec = o.spec as { matchResources: { namespaceSelector: unknown } };
      const namespaceSelector =
        id === "default-namespace"
          ? {
              matchExpressions: [
                {
                  key: "kubernetes.io/metadata.name",
                  operator: "In",
                  values: ["default", namespaces.get(id)],
                },
              ],
            }
          : { matchLabels: { [TEST_LABEL]: id } };
      return { ...o, spec: { ...spec, matchResources: { namespaceSelector } } };
    });
    const applied = expectSuccess(await applyJson(bound), "kubectl apply of the generated VAPs");
    for (const o of objects) {
      const resource =
        o.kind === "ValidatingAdmissionPolicy"
          ? "validatingadmissionpolicy"
          : "validatingadmissionpolicybinding";
      expect(applied.stdout).toContain(
        `${resource}.admissionregistration.k8s.io/${o.metadata?.name} created`,
      );
    }
    pss = loadPssFixtures().fixtures;
    // The API server compiles new policies in the background: wait until each
    // policy denies one of its fail examples.
    await vi.waitFor(
      async () => {
        for (const id of exported.exported) {
          const fails = exampleObjects(id, "fail").filter((o) => engine.sent.has(o.kind ?? ""));
          const outcomes = await Promise.all(fails.map((o) => dryRun(placed(id, o))));
          expect(
            outcomes.map((o) => o.deniedBy),
            `${id}: ${JSON.stringify(outcomes)}`,
          ).toContain(`tollgate-${id}`);
        }
      },
      { timeout: 90_000, interval: 1000 },
    );
  }, 600_000);

  afterAll(async () => {
    try {
      await removeVaps(objects);
      if (tollgatePid() === undefined) await startTollgate();
    } finally {
      await cleanupNamespaces();
    }
  });

  /** The object in its policy's namespace (default-namespace's examples in default stay there). */
  function placed(id: string, object: KubeObject): KubeObject {
    const copy = structuredClone(object);
    const own = copy.metadata?.namespace;
    const namespace =
      id === "default-namespace" && own === "default" ? "default" : (namespaces.get(id) ?? "");
    copy.metadata = { ...copy.metadata, namespace };
    return copy;
  }

  /** Objects the API server's own validation refused: no admission policy runs on them. */
  const invalid: string[] = [];

  /** One line per object: the engine's and the API server's verdict. */
  async function compare(id: string, list: readonly { label: string; object: KubeObject }[]) {
    const lines = await pooled(list, 8, async ({ label, object }) => {
      const where = placed(id, object);
      const input = EngineJudge.input(where, where.metadata?.namespace ?? "", USER);
      const wanted = engine.denies(id, input) ? "deny" : "allow";
      const outcome = await dryRun(where);
      const got = outcome.invalid
        ? "invalid"
        : outcome.deniedBy === `tollgate-${id}`
          ? "deny"
          : outcome.deniedBy
            ? `denied by ${outcome.deniedBy}`
            : outcome.refused && !/already exists|admission webhook/.test(outcome.refused)
              ? `refused: ${outcome.refused}`
              : "allow";
      if (outcome.invalid) invalid.push(`${id} ${label}: ${outcome.invalid}`);
      return { label, wanted, got };
    });
    return lines;
  }

  it("accepts every generated VAP and Binding", async () => {
    const listed = await kubectl([
      "get",
      "validatingadmissionpolicies,validatingadmissionpolicybindings",
      "-l",
      POLICY_LABEL,
      "-o",
      "name",
    ]);
    expect(listed.stdout.trim().split("\n").sort()).toEqual(
      objects
        .map(
          (o) =>
            `${o.kind === "ValidatingAdmissionPolicy" ? "validatingadmissionpolicy" : "validatingadmissionpolicybinding"}.admissionregistration.k8s.io/${o.metadata?.name}`,
        )
        .sort(),
    );
  });

  it("decides every pass and fail example of each exported policy as the engine does", {
    timeout: 300_000,
  }, async () => {
    const mismatches: string[] = [];
    let judged = 0;
    for (const id of exported.exported) {
      const list = (["pass", "fail"] as const).flatMap((kind) =>
        exampleObjects(id, kind).map((object, i) => ({
          label: `${id} ${kind}[${i}] ${object.kind}/${object.metadata?.name}`,
          object,
        })),
      );
      for (const { label, wanted, got } of await compare(id, list)) {
        if (got === "invalid") continue;
        judged++;
        if (got !== wanted) mismatches.push(`${label}: engine ${wanted}, API server ${got}`);
      }
    }
    console.log(
      `examples judged by the API server's VAPs and the engine: ${judged}; refused by the API server's validation before admission: ${invalid.length}\n${invalid.join("\n")}`,
    );
    expect(judged).toBeGreaterThan(100);
    expect(mismatches).toEqual([]);
  });

  it("decides every Pod Security Standards fixture as the engine does, for each exported pod policy", {
    timeout: 600_000,
  }, async () => {
    const podPolicies = exported.exported.filter((id) =>
      resolved.policies.some((p) => p.declaration.id === id && p.module.scope === "pod"),
    );
    const mismatches: string[] = [];
    let judged = 0;
    let denied = 0;
    let skipped = 0;
    for (const id of podPolicies) {
      const list = pss.map((f) => ({
        label: `${f.level}/${f.expected}/${f.file}`,
        object: { ...f.object, metadata: { ...f.object.metadata, name: uniqueName("pss") } },
      }));
      for (const { label, wanted, got } of await compare(id, list)) {
        if (got === "invalid") {
          skipped++;
          continue;
        }
        judged++;
        if (got === "deny") denied++;
        if (got !== wanted) mismatches.push(`${id} ${label}: engine ${wanted}, API server ${got}`);
      }
    }
    console.log(
      `PSS fixtures: ${pss.length} x ${podPolicies.length} pod policies: ${judged} dry runs judged, ${denied} denied by the policy's VAP, ${skipped} refused by the API server's validation`,
    );
    expect(pss.length).toBeGreaterThan(100);
    expect(judged + skipped).toBe(pss.length * podPolicies.length);
    expect(skipped).toBeLessThan(judged / 10);
    expect(denied).toBeGreaterThan(0);
    expect(mismatches).toEqual([]);
  });

  describe("with Tollgate stopped", () => {
    let enforced: string;

    beforeAll(async () => {
      // The VAPs for the policy set the e2e Tollgate runs, bound as generated:
      // every namespace the enforce webhook enforces.
      await removeVaps(objects);
      objects = await generated("test/e2e/policyset.yaml");
      // The file as generated, through kubectl's own YAML reading.
      const file = workspace({
        "vap.yaml": (
          await tollgate(["policies", "-o", "vap", "--config", "test/e2e/policyset.yaml"])
        ).stdout,
      });
      expectSuccess(
        await kubectl(["apply", "-f", `${file}/vap.yaml`]),
        "kubectl apply -f vap.yaml",
      );
      enforced = await createNamespace("vapx");
      const probe = privileged(compliantPod("probe", enforced));
      await vi.waitFor(
        async () => {
          expect((await dryRun(probe as KubeObject)).deniedBy).toMatch(PRIVILEGED_VAPS);
        },
        { timeout: 60_000, interval: 1000 },
      );
      await stopTollgate();
      expect(tollgatePid()).toBeUndefined();
    }, 120_000);

    it("the API server itself denies a privileged Pod in an enforced namespace", async () => {
      const result = await apply(privileged(compliantPod("root", enforced)));
      expect(result.code).toBe(1);
      // A privileged container cannot keep allowPrivilegeEscalation false, so
      // both VAPs deny it; the API server names the first.
      expect(result.stderr).toMatch(
        /ValidatingAdmissionPolicy 'tollgate-(privileged|privilege-escalation)' with binding 'tollgate-\1' denied request: \1: a container (runs privileged|does not set allowPrivilegeEscalation to false)/,
      );
      // The VAP answered before the webhook was called: no webhook error.
      expect(result.stderr).not.toContain("failed calling webhook");
      const stored = await kubectl(["get", "pod", "root", "-n", enforced, "--ignore-not-found"]);
      expect(stored.stdout).toBe("");
      // A compliant Pod passes every VAP and meets the stopped webhook, which fails closed.
      const compliant = await apply(compliantPod("fine", enforced));
      expect(compliant.code).toBe(1);
      expect(compliant.stderr).toContain('failed calling webhook "enforce.tollgate.dev"');
      expect(compliant.stderr).not.toContain("ValidatingAdmissionPolicy");
    });
  });
});
