// Parameters and corner cases of the pod-security validations that the
// shipped examples, which use the default parameters, cannot show.
import { describe, expect, it } from "vitest";
import { objectOf, onlyPolicies, run } from "../support/policies.js";

function pod(spec: string, annotations = "{}"): ReturnType<typeof objectOf> {
  return objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: p, namespace: apps, annotations: ${annotations} }
spec:
${spec}
`);
}

function paths(id: string, object: ReturnType<typeof objectOf>, parameters = {}): string[] {
  return run(onlyPolicies([id], parameters), object).violations.map((v) => v.path);
}

describe("proc-mount", () => {
  const unmasked = pod(`
  hostUsers: false
  containers:
    - name: app
      image: mcr.microsoft.com/app:1.0
      securityContext: { procMount: Unmasked }
`);
  it("follows baseline for user-namespace pods only when asked", () => {
    expect(paths("proc-mount", unmasked)).toEqual(["spec.containers[0].securityContext.procMount"]);
    expect(paths("proc-mount", unmasked, { allowUnmaskedInUserNamespace: true })).toEqual([]);
  });
});

describe("capabilities-minimal", () => {
  const adds = pod(`
  containers:
    - name: app
      image: mcr.microsoft.com/app:1.0
      securityContext:
        capabilities: { drop: [ALL], add: [NET_BIND_SERVICE, CHOWN] }
`);
  it("takes the allowed additions from its parameter", () => {
    expect(paths("capabilities-minimal", adds)).toEqual([
      "spec.containers[0].securityContext.capabilities.add[1]",
    ]);
    expect(
      paths("capabilities-minimal", adds, { allowedAdds: ["NET_BIND_SERVICE", "CHOWN"] }),
    ).toEqual([]);
    const none = run(onlyPolicies(["capabilities-minimal"], { allowedAdds: [] }), adds);
    expect(none.violations).toHaveLength(2);
    expect(none.violations[0]?.message).toContain("this policy allows adding nothing");
  });

  it("requires ALL exactly, as the runtime does", () => {
    const lower = pod(`
  containers:
    - name: app
      image: mcr.microsoft.com/app:1.0
      securityContext:
        capabilities: { drop: [all] }
`);
    expect(paths("capabilities-minimal", lower)).toEqual([
      "spec.containers[0].securityContext.capabilities.drop",
    ]);
  });
});

describe("capabilities", () => {
  it("explains capability names that only look like an allowed one", () => {
    const verdict = run(
      onlyPolicies(["capabilities"]),
      pod(`
  containers:
    - name: app
      image: mcr.microsoft.com/app:1.0
      securityContext:
        capabilities: { add: [chown] }
`),
    );
    expect(verdict.violations[0]?.message).toContain("write CHOWN");
  });
});

describe("host-ports", () => {
  const dns = pod(`
  containers:
    - name: cache
      image: mcr.microsoft.com/dns:1.0
      ports:
        - { containerPort: 53, hostPort: 53, protocol: UDP }
        - { containerPort: 9253, hostPort: 9253 }
`);
  it("accepts the reserved ports and still reports the others", () => {
    expect(paths("host-ports", dns, { allowedPorts: [53] })).toEqual([
      "spec.containers[0].ports[1].hostPort",
    ]);
  });
});

describe("volume-types", () => {
  const nfs = pod(`
  volumes:
    - name: shared
      nfs: { server: 10.0.0.4, path: /exports }
    - name: scratch
  containers:
    - name: app
      image: mcr.microsoft.com/app:1.0
`);
  it("accepts sources added to allowedTypes", () => {
    expect(paths("volume-types", nfs)).toEqual(["spec.volumes[0].nfs"]);
    expect(paths("volume-types", nfs, { allowedTypes: ["nfs", "emptyDir"] })).toEqual([]);
  });

  it("treats a volume without a source as the emptyDir the API server makes of it", () => {
    expect(paths("volume-types", nfs, { allowedTypes: ["nfs"] })).toEqual([
      "spec.volumes[1].emptyDir",
    ]);
  });
});

describe("apparmor", () => {
  it("checks annotations for names that match no container, and accepts an empty value", () => {
    const object = pod(
      `
  containers:
    - name: app
      image: mcr.microsoft.com/app:1.0
`,
      `{ container.apparmor.security.beta.kubernetes.io/app: "", container.apparmor.security.beta.kubernetes.io/gone: unconfined }`,
    );
    const verdict = run(onlyPolicies(["apparmor"]), object);
    expect(verdict.violations.map((v) => [v.path, v.container])).toEqual([
      ['metadata.annotations["container.apparmor.security.beta.kubernetes.io/gone"]', undefined],
    ]);
  });
});

describe("seccomp and seccomp-required", () => {
  const inherited = pod(`
  securityContext:
    seccompProfile: { type: Unconfined }
  containers:
    - name: app
      image: mcr.microsoft.com/app:1.0
`);
  it("split the work: a bad profile is seccomp's, a missing one seccomp-required's", () => {
    const set = onlyPolicies(["seccomp", "seccomp-required"]);
    expect(run(set, inherited).violations.map((v) => v.policy)).toEqual(["seccomp"]);
    const missing = pod(`
  containers:
    - name: app
      image: mcr.microsoft.com/app:1.0
`);
    expect(run(set, missing).violations.map((v) => v.policy)).toEqual(["seccomp-required"]);
  });

  it("treats a profile without a type as unconfined", () => {
    const untyped = pod(`
  securityContext:
    seccompProfile: { type: RuntimeDefault }
  containers:
    - name: app
      image: mcr.microsoft.com/app:1.0
      securityContext:
        seccompProfile: {}
`);
    expect(paths("seccomp", untyped)).toEqual([
      "spec.containers[0].securityContext.seccompProfile.type",
    ]);
  });
});

describe("restricted-only policies on Windows pods", () => {
  const windows = pod(`
  os: { name: windows }
  securityContext: { runAsNonRoot: true }
  containers:
    - name: iis
      image: mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022
`);
  it("skip the Linux-only checks but still require runAsNonRoot", () => {
    const linuxOnly = [
      "privilege-escalation",
      "capabilities-minimal",
      "seccomp-required",
      "read-only-root",
    ];
    expect(run(onlyPolicies(linuxOnly), windows).violations).toEqual([]);
    const noNonRoot = pod(`
  os: { name: windows }
  containers:
    - name: iis
      image: mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022
`);
    expect(paths("run-as-non-root", noNonRoot)).toEqual([
      "spec.containers[0].securityContext.runAsNonRoot",
    ]);
  });
});
