// Enforce mode, the cluster-wide default: an unlabelled namespace is enforced,
// and the real kubectl shows Tollgate's denial, naming container and field.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, readOrUndefined } from "./support/cluster.js";
import { apply, denialOf, expectSuccess } from "./support/kubectl.js";
import {
  compliantCronJob,
  compliantDeployment,
  compliantPod,
  privileged,
  UNTRUSTED_IMAGE,
  withContainer,
} from "./support/manifests.js";
import { cleanupNamespaces, createNamespace } from "./support/namespaces.js";

const DENIED =
  /^Error from server \(Forbidden\): error when creating "STDIN": admission webhook "enforce\.tollgate\.dev" denied the request: \d+ AKS checklist violations? must be fixed:$/m;

let ns: string;

beforeAll(async () => {
  ns = await createNamespace("enforce");
});
afterAll(cleanupNamespaces);

async function podStored(name: string, namespace = ns): Promise<boolean> {
  return (
    (await readOrUndefined(() => api().core.readNamespacedPod({ name, namespace }))) !== undefined
  );
}

describe("enforce: an unlabelled namespace", () => {
  it("denies a privileged Pod on kubectl apply", async () => {
    const result = await apply(privileged(compliantPod("privileged", ns)));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(DENIED);
    expect(denialOf(result)).toMatch(
      /^- privileged: Pod "privileged" container "app": runs privileged; .* \(field spec\.containers\[0\]\.securityContext\.privileged\)$/m,
    );
    expect(await podStored("privileged")).toBe(false);
  });

  it("denies a container running as root (runAsUser: 0)", async () => {
    const pod = withContainer(compliantPod("root", ns), (c) => {
      c.securityContext = { ...c.securityContext, runAsUser: 0 };
    });
    const result = await apply(pod);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(DENIED);
    expect(denialOf(result)).toMatch(
      /^- run-as-non-root: Pod "root" container "app": sets runAsUser: 0 \(root\); .* \(field spec\.containers\[0\]\.securityContext\.runAsUser\)$/m,
    );
    expect(await podStored("root")).toBe(false);
  });

  it("denies an image from an untrusted registry", async () => {
    const pod = withContainer(compliantPod("untrusted", ns), (c) => {
      c.image = UNTRUSTED_IMAGE;
    });
    const result = await apply(pod);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(DENIED);
    expect(denialOf(result)).toMatch(
      /^- trusted-registry: Pod "untrusted" container "app": .*docker\.io.* \(field spec\.containers\[0\]\.image\)$/m,
    );
    expect(await podStored("untrusted")).toBe(false);
  });

  it("denies a container without a memory limit", async () => {
    const pod = withContainer(compliantPod("no-limits", ns), (c) => {
      delete c.resources?.limits;
    });
    const result = await apply(pod);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(DENIED);
    expect(denialOf(result)).toMatch(
      /^- resources: Pod "no-limits" container "app": has no memory limit; .* \(field spec\.containers\[0\]\.resources\.limits\.memory\)$/m,
    );
    expect(await podStored("no-limits")).toBe(false);
  });

  it("denies a workload in the default namespace", async () => {
    const result = await apply(compliantDeployment("e2e-enforce-default", "default"));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(DENIED);
    expect(denialOf(result)).toMatch(/^- default-namespace: Deployment "e2e-enforce-default": /m);
    const stored = await readOrUndefined(() =>
      api().apps.readNamespacedDeployment({ name: "e2e-enforce-default", namespace: "default" }),
    );
    expect(stored).toBeUndefined();
  });

  it("denies a privileged Deployment, naming the container and the field in the pod template", async () => {
    const result = await apply(privileged(compliantDeployment("web", ns)));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(DENIED);
    expect(denialOf(result)).toMatch(
      /^- privileged: Deployment "web" container "app": runs privileged; .* \(field spec\.template\.spec\.containers\[0\]\.securityContext\.privileged\)$/m,
    );
    const stored = await readOrUndefined(() =>
      api().apps.readNamespacedDeployment({ name: "web", namespace: ns }),
    );
    expect(stored).toBeUndefined();
  });

  it("denies a CronJob, naming the container and the field under jobTemplate", async () => {
    const cronJob = withContainer(compliantCronJob("nightly", ns), (c) => {
      c.name = "backup";
      c.securityContext = { ...c.securityContext, runAsUser: 0 };
    });
    const result = await apply(cronJob);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(DENIED);
    expect(denialOf(result)).toMatch(
      /^- run-as-non-root: CronJob "nightly" container "backup": sets runAsUser: 0 \(root\); .* \(field spec\.jobTemplate\.spec\.template\.spec\.containers\[0\]\.securityContext\.runAsUser\)$/m,
    );
    const stored = await readOrUndefined(() =>
      api().batch.readNamespacedCronJob({ name: "nightly", namespace: ns }),
    );
    expect(stored).toBeUndefined();
  });

  it("admits a compliant Deployment", async () => {
    const result = expectSuccess(await apply(compliantDeployment("good", ns)), "apply");
    expect(result.stdout.trim()).toBe("deployment.apps/good created");
    expect(result.stderr).toBe("");
    const stored = await api().apps.readNamespacedDeployment({ name: "good", namespace: ns });
    expect(stored.metadata?.uid).toBeTruthy();
  });
});
