import { describe, expect, it } from "vitest";
import { compilePolicySet } from "../../src/engine/index.js";
import { resolvePolicySet } from "../../src/policyset/index.js";
import { objectOf, onlyPolicies, run, shippedPolicies } from "../support/policies.js";

const ROOT_IN_USER_NAMESPACE = `
apiVersion: v1
kind: Pod
metadata: { name: userns, namespace: apps }
spec:
  hostUsers: false
  securityContext: { runAsUser: 0 }
  containers:
    - name: app
      image: mcr.microsoft.com/app:1.0
`;

describe("run-as-non-root", () => {
  it("refuses root in a user namespace unless allowRootInUserNamespace is set", () => {
    const object = objectOf(ROOT_IN_USER_NAMESPACE);
    expect(run(onlyPolicies(["run-as-non-root"]), object).violations).toHaveLength(2);
    const relaxed = onlyPolicies(["run-as-non-root"], { allowRootInUserNamespace: true });
    expect(run(relaxed, object).violations).toEqual([]);
    // The relaxation needs hostUsers: false, not merely the parameter.
    const hostUsers = objectOf(
      ROOT_IN_USER_NAMESPACE.replace("hostUsers: false", "hostUsers: true"),
    );
    expect(run(relaxed, hostUsers).violations).toHaveLength(2);
  });

  it("reports an inherited pod-level value once per container, each naming where to fix it", () => {
    const verdict = run(
      onlyPolicies(["run-as-non-root"]),
      objectOf(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: apps }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      securityContext: { runAsNonRoot: false }
      containers:
        - name: web
          image: mcr.microsoft.com/web:1.0
        - name: proxy
          image: mcr.microsoft.com/proxy:1.0
`),
    );
    expect(verdict.violations.map((v) => [v.container, v.path])).toEqual([
      ["web", "spec.template.spec.securityContext.runAsNonRoot"],
      ["proxy", "spec.template.spec.securityContext.runAsNonRoot"],
    ]);
    expect(verdict.violations[0]?.message).toBe(
      'Deployment "web" container "web": inherits runAsNonRoot: false from the pod (spec.template.spec.securityContext.runAsNonRoot); set it to true, or set the container\'s own securityContext.runAsNonRoot to true',
    );
    expect(verdict.allowed).toBe(false);
  });

  it("lets an image exemption cover a container that inherits the pod's value", () => {
    const resolved = resolvePolicySet(
      shippedPolicies(),
      {
        apiVersion: "tollgate.dev/v1alpha1",
        kind: "PolicySet",
        policies: { "run-as-non-root": { exemptions: { images: ["mcr.microsoft.com/legacy:*"] } } },
      },
      "inline",
    );
    const set = compilePolicySet(
      resolved.policies.filter((p) => p.declaration.id === "run-as-non-root"),
      [],
    );
    const verdict = run(
      set,
      objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: mixed, namespace: apps }
spec:
  securityContext: { runAsNonRoot: false }
  containers:
    - name: legacy
      image: mcr.microsoft.com/legacy:1.0
    - name: app
      image: mcr.microsoft.com/app:1.0
      securityContext: { runAsNonRoot: true }
`),
    );
    expect(verdict.violations).toEqual([]);
  });
});
