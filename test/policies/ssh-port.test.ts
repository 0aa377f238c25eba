import { describe, expect, it } from "vitest";
import { resolvePolicySet } from "../../src/policyset/index.js";
import { objectOf, onlyPolicies, run, shippedPolicies } from "../support/policies.js";

function pod(image: string, port: number) {
  return objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: git, namespace: apps }
spec:
  containers:
    - name: git
      image: ${image}
      ports: [{ containerPort: ${port} }]
`);
}

function service(port: number, protocol = "TCP") {
  return objectOf(`
apiVersion: v1
kind: Service
metadata: { name: s, namespace: apps }
spec:
  selector: { app: s }
  ports: [{ port: ${port}, protocol: ${protocol} }]
`);
}

describe("ssh-port", () => {
  it("warns without blocking in enforce mode", () => {
    const verdict = run(onlyPolicies(["ssh-port"]), pod("mcr.microsoft.com/box:1.0", 22));
    expect(verdict.allowed).toBe(true);
    expect(verdict.warnings).toHaveLength(1);
  });

  it("checks the ports given as parameter instead of 22", () => {
    const set = onlyPolicies(["ssh-port"], { ports: [2222] });
    expect(run(set, pod("mcr.microsoft.com/box:1.0", 2222)).violations).toHaveLength(1);
    expect(run(set, pod("mcr.microsoft.com/box:1.0", 22)).violations).toEqual([]);
    expect(run(set, service(2222)).violations).toHaveLength(1);
  });

  it("ignores UDP", () => {
    expect(run(onlyPolicies(["ssh-port"]), service(22, "UDP")).violations).toEqual([]);
  });

  it("honours image exemptions for container findings", () => {
    const file = {
      apiVersion: "tollgate.dev/v1alpha1",
      kind: "PolicySet",
      policies: { "ssh-port": { exemptions: { images: ["docker.gitea.com/gitea:*"] } } },
    };
    const { set } = resolvePolicySet(shippedPolicies(), file, "set.yaml");
    const ssh = (image: string) =>
      run(set, pod(image, 22)).violations.filter((v) => v.policy === "ssh-port");
    expect(ssh("docker.gitea.com/gitea:1.22")).toEqual([]);
    expect(ssh("mcr.microsoft.com/box:1.0")).toHaveLength(1);
  });
});
