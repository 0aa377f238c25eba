// PolicyExceptions, break-glass subjects and the mode-label guard against the
// real API server (docs/exceptions.md). Tollgate watches PolicyExceptions
// (start-tollgate.sh runs `serve --watch-exceptions` and installs the CRD), so
// an exception reaches it the way it does in a cluster: stored by the API
// server, delivered by the watch. Users other than the admin are impersonated
// (`kubectl --as`), with RBAC of their own, so the API server's authorizer and
// Tollgate both judge them as they would a real person.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { cluster, isLocal, localCluster } from "./support/cluster.js";
import { REPO } from "./support/env.js";
import { apply, denialOf, expectSuccess, kubectl, warningsOf, yamlOf } from "./support/kubectl.js";
import { AuditLog, LineCursor } from "./support/logs.js";
import { compliantDeployment, privileged } from "./support/manifests.js";
import {
  cleanupNamespaces,
  createNamespace,
  MODE_LABEL,
  uniqueName,
} from "./support/namespaces.js";
import { startTollgate, stopTollgate } from "./support/tollgate.js";

afterAll(cleanupNamespaces);

const FUTURE = "2099-01-31T00:00:00Z";

function exception(namespace: string, name: string, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: "tollgate.dev/v1alpha1",
    kind: "PolicyException",
    metadata: { name, namespace },
    spec: {
      // A privileged container cannot set allowPrivilegeEscalation false.
      policies: ["privileged", "privilege-escalation"],
      match: { kinds: ["Deployment"], names: ["web"] },
      reason: "the e2e suite's privileged web",
      expires: FUTURE,
      ...spec,
    },
  };
}

/** kubectl as someone else: the API server authorizes and Tollgate sees this user. */
function as(user: string, args: string[], input?: string) {
  return kubectl([`--as=${user}`, ...args], input === undefined ? {} : { input });
}

async function sleep(ms: number) {
  await new Promise((done) => setTimeout(done, ms));
}

/**
 * Server-side dry-runs of `web` until `done` holds for kubectl's answer: the
 * watch delivers an exception a moment after the API server stored it.
 */
async function dryRunUntil(
  namespace: string,
  done: (result: Awaited<ReturnType<typeof kubectl>>) => boolean,
  what: string,
) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const result = await apply(
      privileged(compliantDeployment("web", namespace)),
      "--dry-run=server",
    );
    if (done(result)) return result;
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within 30 s; last answer:\n${result.stderr}${result.stdout}`);
    }
    await sleep(250);
  }
}

const admitted = (r: { code: number }) => r.code === 0;

/** The audit event of the Deployment `web`'s creation in `namespace`. */
function webCreated(audit: AuditLog, namespace: string) {
  return audit.waitFor({ verb: "create", resource: "deployments", namespace, name: "web" });
}

/** Tollgate's log lines from now on (local control plane only). */
function localLog() {
  const cursor = new LineCursor(localCluster().logFile);
  const seen: string[] = [];
  return {
    async waitFor(pattern: RegExp): Promise<string> {
      const deadline = Date.now() + 15_000;
      for (;;) {
        seen.push(...cursor.read());
        const found = seen.find((line) => pattern.test(line));
        if (found !== undefined) return found;
        if (Date.now() > deadline)
          throw new Error(`no log line matching ${pattern}:\n${seen.join("\n")}`);
        await sleep(100);
      }
    },
  };
}

/** The built CLI (npm run cluster:up builds dist/), as a user runs it. */
function runCli(args: string[]) {
  const result = spawnSync(process.execPath, [join(REPO, "dist/src/cli/main.js"), ...args], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** A ClusterRole of our own for the impersonated users, bound cluster-wide to `users`. */
async function grant(name: string, rules: object[], users: string[]) {
  const role = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name },
    rules,
  };
  const binding = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
    subjects: users.map((user) => ({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "User",
      name: user,
    })),
  };
  expectSuccess(await apply([role, binding]), `grant ${name}`);
}

/**
 * The clusterrole-aggregation controller's part (the control plane runs no
 * controller-manager, so the built-in `edit` role has no rules of its own):
 * `edit` gets the rules of every ClusterRole its aggregationRule selects, as
 * on a real cluster. A shipped role labelled aggregate-to-edit would land here.
 */
async function aggregateEdit() {
  const edit = JSON.parse(
    expectSuccess(await kubectl(["get", "clusterrole", "edit", "-o", "json"]), "get edit").stdout,
  ) as {
    aggregationRule: { clusterRoleSelectors: { matchLabels: Record<string, string> }[] };
    rules?: object[];
    metadata: Record<string, unknown>;
  };
  const rules: object[] = [];
  for (const selector of edit.aggregationRule.clusterRoleSelectors) {
    const labels = Object.entries(selector.matchLabels)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    const listed = JSON.parse(
      expectSuccess(await kubectl(["get", "clusterroles", "-l", labels, "-o", "json"]), "list")
        .stdout,
    ) as { items: { rules?: object[] }[] };
    for (const role of listed.items) rules.push(...(role.rules ?? []));
  }
  edit.rules = rules;
  expectSuccess(
    await kubectl(["replace", "-f", "-"], { input: JSON.stringify(edit) }),
    "aggregate edit",
  );
}

describe("PolicyExceptions from the cluster", () => {
  it("admits the excepted Deployment with kubectl's warning, and the API server's audit log names the exception", async () => {
    const ns = await createNamespace("exceptions");
    const denied = await apply(privileged(compliantDeployment("web", ns)), "--dry-run=server");
    expect(denialOf(denied)).toMatch(/^- privileged: /m);

    expectSuccess(await apply(exception(ns, "web-privileged")), "apply the exception");
    await dryRunUntil(ns, admitted, "the exception reaching Tollgate");

    const audit = cluster().auditLog ? new AuditLog() : undefined;
    const created = expectSuccess(await apply(privileged(compliantDeployment("web", ns))), "apply");
    expect(created.stdout.trim()).toBe("deployment.apps/web created");
    expect([...warningsOf(created)].sort()).toEqual([
      `privilege-escalation: excepted by ${ns}/web-privileged until 2099-01-31`,
      `privileged: excepted by ${ns}/web-privileged until 2099-01-31`,
    ]);
    if (audit) {
      const event = await webCreated(audit, ns);
      expect(event.annotations?.["enforce.tollgate.dev/privileged.excepted"]).toMatch(
        new RegExp(`^by ${ns}/web-privileged until 2099-01-31; Deployment "web" container "app": `),
      );
    }

    // The audit reads the same exception from the API server: skip, naming it.
    const audited = runCli([
      "audit",
      "--kubeconfig",
      cluster().kubeconfig,
      "-c",
      join(REPO, "test/e2e/policyset.yaml"),
      "-n",
      ns,
      "-o",
      "json",
    ]);
    expect(audited.code, audited.stderr).toBe(0);
    const doc = JSON.parse(audited.stdout) as {
      findings: { policy: string; result: string; exception?: { name: string } }[];
      exceptions: { name: string; findings: number }[];
    };
    expect(doc.findings.filter((f) => f.policy === "privileged")).toEqual([
      expect.objectContaining({
        result: "skip",
        exception: expect.objectContaining({ name: "web-privileged" }),
      }),
    ]);
    expect(doc.exceptions).toEqual([
      expect.objectContaining({ name: "web-privileged", findings: 2 }),
    ]);
  });

  it("denies again once the exception has expired, with no restart", async () => {
    const ns = await createNamespace("exceptions");
    const expires = new Date(Date.now() + 12_000);
    expires.setMilliseconds(0);
    expectSuccess(
      await apply(
        exception(ns, "short-lived", { expires: expires.toISOString().replace(".000", "") }),
      ),
      "apply the exception",
    );
    // In force first: so the denial below is the expiry's doing, not a watch not yet delivered.
    await dryRunUntil(ns, admitted, "the exception reaching Tollgate");
    if (Date.now() < expires.getTime()) await sleep(expires.getTime() - Date.now() + 500);
    const denied = await apply(privileged(compliantDeployment("web", ns)), "--dry-run=server");
    expect(denied.code).toBe(1);
    expect(denialOf(denied)).toMatch(
      /^- privileged: Deployment "web" container "app": runs privileged/m,
    );
  });

  it("does not honour an exception held in another namespace", async () => {
    const ns = await createNamespace("exceptions");
    const other = await createNamespace("exceptions");
    expectSuccess(await apply(exception(other, "web-privileged")), "apply the exception");
    // It is delivered: it covers `web` in its own namespace...
    await dryRunUntil(other, admitted, "the exception reaching Tollgate");
    // ...and nowhere else.
    const denied = await apply(privileged(compliantDeployment("web", ns)), "--dry-run=server");
    expect(denialOf(denied)).toMatch(/^- privileged: /m);
  });

  it("cannot be created by a namespace edit user; the shipped approver role can", async () => {
    const ns = await createNamespace("exceptions");
    const editor = uniqueName("editor");
    const approver = uniqueName("approver");
    // The shipped roles, as deploy/base installs them.
    expectSuccess(
      await kubectl(["apply", "-f", join(REPO, "deploy/base/exceptions-rbac.yaml")]),
      "apply deploy/base/exceptions-rbac.yaml",
    );
    expectSuccess(
      await kubectl([
        "create",
        "rolebinding",
        "editors",
        "-n",
        ns,
        "--clusterrole=edit",
        `--user=${editor}`,
      ]),
      "bind edit",
    );
    expectSuccess(
      await kubectl([
        "create",
        "rolebinding",
        "approvers",
        "-n",
        ns,
        "--clusterrole=tollgate-exception-approver",
        `--user=${approver}`,
      ]),
      "bind the approver role",
    );
    await aggregateEdit();
    // The edit role is in force for this user: it may create Deployments here.
    const canDeploy = await as(editor, ["auth", "can-i", "create", "deployments.apps", "-n", ns]);
    expect(canDeploy.stdout.trim()).toBe("yes");

    const text = yamlOf(exception(ns, "self-service"));
    const refused = await as(editor, ["create", "-f", "-"], text);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /policyexceptions\.tollgate\.dev is forbidden: User ".*" cannot create resource "policyexceptions" in API group "tollgate\.dev"/,
    );
    const approved = await as(approver, ["create", "-f", "-"], text);
    expectSuccess(approved, "the approver's create");
    expect(approved.stdout.trim()).toBe("policyexception.tollgate.dev/self-service created");
  });
});

describe("the mode-label guard (protectModeLabel, fails closed)", () => {
  it("denies a normal user changing the label, lets them change others, and lets a listed subject change it", async () => {
    const ns = await createNamespace("exceptions", "enforce");
    const user = uniqueName("labeller");
    await grant(
      `${user}-namespaces`,
      [{ apiGroups: [""], resources: ["namespaces"], verbs: ["get", "list", "patch", "update"] }],
      [user],
    );
    // RBAC lets this user label namespaces...
    expectSuccess(await as(user, ["label", "namespace", ns, "team=a"]), "label team=a");
    // ...but not switch enforcement off.
    const refused = await as(user, ["label", "namespace", ns, `${MODE_LABEL}=off`, "--overwrite"]);
    expect(refused.code).toBe(1);
    expect(denialOf(refused, "mode-label.tollgate.dev")).toBe(
      `changing the label ${MODE_LABEL} of Namespace "${ns}" (from "enforce" to "off") is reserved to the PolicySet's modeLabelEditors, and ${user} is not one of them: ask a platform administrator to change it, or to list you in modeLabelEditors`,
    );
    const removed = await as(user, ["label", "namespace", ns, `${MODE_LABEL}-`]);
    expect(denialOf(removed, "mode-label.tollgate.dev")).toContain('from "enforce" to unset');

    // The e2e policy set lists group system:masters, the admin kubeconfig's group.
    const audit = cluster().auditLog ? new AuditLog() : undefined;
    expectSuccess(
      await kubectl(["label", "namespace", ns, `${MODE_LABEL}=warn`, "--overwrite"]),
      "the listed editor's change",
    );
    if (audit) {
      const event = await audit.waitFor({
        verb: "patch",
        resource: "namespaces",
        // A namespace is its own objectRef.namespace in the audit log.
        namespace: ns,
        name: ns,
      });
      expect(event.annotations?.["mode-label.tollgate.dev/mode-label"]).toMatch(
        /^tollgate\.dev\/mode from "enforce" to "warn" by group system:masters/,
      );
    }
  });
});

describe.runIf(isLocal())("the PolicySet's subject and name exemptions", () => {
  const dir = mkdtempSync(join(tmpdir(), "tollgate-e2e-exceptions-"));
  const file = join(dir, "policyset.yaml");
  const base = parse(readFileSync(join(REPO, "test/e2e/policyset.yaml"), "utf8")) as Record<
    string,
    unknown
  >;
  const withSubjects = { ...base, exemptions: { subjects: { users: ["oncall-*"] } } };

  afterAll(async () => {
    // Back to the suite's own policy set.
    await stopTollgate();
    await startTollgate();
  });

  it("admits a break-glass user's request unchecked and records who in the API server's audit log", async () => {
    writeFileSync(file, stringify(withSubjects));
    await stopTollgate();
    await startTollgate(file);
    const ns = await createNamespace("exceptions");
    const user = uniqueName("dev");
    await grant(
      `${user}-workloads`,
      [
        {
          apiGroups: ["apps"],
          resources: ["deployments"],
          verbs: ["get", "list", "create", "patch"],
        },
      ],
      [user, "oncall-bob"],
    );
    const manifest = yamlOf(privileged(compliantDeployment("web", ns)));
    // Someone else is still checked.
    const denied = await as(user, ["apply", "--dry-run=server", "-f", "-"], manifest);
    expect(denialOf(denied)).toMatch(/^- privileged: /m);

    const audit = cluster().auditLog ? new AuditLog() : undefined;
    const created = expectSuccess(
      await as("oncall-bob", ["apply", "-f", "-"], manifest),
      "oncall-bob",
    );
    expect(created.stdout.trim()).toBe("deployment.apps/web created");
    if (audit) {
      const event = await webCreated(audit, ns);
      expect(event.annotations?.["enforce.tollgate.dev/exempt-subject"]).toBe("user oncall-bob");
    }
  });

  it("refuses a bare name exemption, naming the file and field; the previous policy set stays in force", async () => {
    const log = localLog();
    const bare = { ...withSubjects, exemptions: { ...withSubjects.exemptions, names: ["web"] } };
    writeFileSync(file, stringify(bare));
    const line = JSON.parse(await log.waitFor(/policy set not reloaded/)) as Record<string, string>;
    expect(line).toMatchObject({ level: "error", file, field: "exemptions.names[0]" });
    expect(line.problem).toMatch(
      /^"web" must be a namespace\/name glob: .* write "<namespace>\/web"/,
    );
    // Still the old set: web in any namespace is judged.
    const ns = await createNamespace("exceptions");
    const denied = await apply(privileged(compliantDeployment("web", ns)), "--dry-run=server");
    expect(denialOf(denied)).toMatch(/^- privileged: /m);

    // The same file is refused at startup, in one line.
    const manifest = join(dir, "web.yaml");
    writeFileSync(manifest, yamlOf(compliantDeployment("web", ns)));
    const cli = runCli(["test", "-c", file, manifest]);
    expect(cli.code).toBe(2);
    expect(cli.stderr.trim().split("\n")).toEqual([
      expect.stringContaining(`${file}: exemptions.names[0]: "web" must be a namespace/name glob`),
    ]);
  });
});
