import { describe, expect, it } from "vitest";
import { podTargetOf, resourceOf } from "../../src/engine/index.js";
import { effectiveSetting, inheritedFromPod, levelOf } from "../../src/engine/kit/index.js";
import { objectOf } from "../support/policies.js";

const deployment = objectOf(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: apps }
spec:
  template:
    spec:
      securityContext: { runAsUser: 1000, seccompProfile: { type: RuntimeDefault } }
      containers:
        - name: own
          image: mcr.microsoft.com/own:1.0
          securityContext: { runAsUser: 0, runAsNonRoot: false }
        - name: bare
          image: mcr.microsoft.com/bare:1.0
`);

describe("effectiveSetting", () => {
  const pod = podTargetOf(deployment, resourceOf(deployment, undefined));
  const [own, bare] = pod?.containers ?? [];
  if (!pod || !own || !bare) throw new Error("the fixture has a pod with two containers");

  it("takes the container's own value, at its own path", () => {
    const user = effectiveSetting(pod, own, "runAsUser");
    expect(user.value).toBe(0);
    expect(user.path).toEqual([
      "spec",
      "template",
      "spec",
      "containers",
      0,
      "securityContext",
      "runAsUser",
    ]);
    expect(inheritedFromPod(own, user)).toBe(false);
    expect(levelOf(own, user)).toBe("container");
  });

  it("falls back to the pod's value, at the pod's path", () => {
    const user = effectiveSetting(pod, bare, "runAsUser");
    expect(user.value).toBe(1000);
    expect(user.path).toEqual(["spec", "template", "spec", "securityContext", "runAsUser"]);
    expect(inheritedFromPod(bare, user)).toBe(true);
    expect(levelOf(bare, user)).toBe("pod");
    expect(effectiveSetting(pod, bare, "seccompProfile").value).toEqual({ type: "RuntimeDefault" });
  });

  it("points at the container's own field when neither level sets it", () => {
    const nonRoot = effectiveSetting(pod, bare, "runAsNonRoot");
    expect(nonRoot.value).toBeUndefined();
    expect(nonRoot.path).toEqual([
      "spec",
      "template",
      "spec",
      "containers",
      1,
      "securityContext",
      "runAsNonRoot",
    ]);
    expect(inheritedFromPod(bare, nonRoot)).toBe(false);
    // The same path on every read.
    expect(nonRoot.path).toBe(nonRoot.path);
    expect(effectiveSetting(pod, own, "runAsNonRoot").value).toBe(false);
  });
});
