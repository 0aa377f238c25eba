import jsonpatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import policy from "../../policies/service-account-token/index.js";
import type { KubeObject } from "../../src/engine/index.js";
import { exampleObjects, onlyPolicies, run } from "../support/policies.js";

const ID = "service-account-token";
const TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";

function patchOf(object: KubeObject, parameters: Record<string, unknown> = {}) {
  return run(onlyPolicies([ID], parameters), object, { phase: "mutate" }).patch;
}

/** Applies the patch validating every operation against the document as it stands. */
function mutated(object: KubeObject, parameters: Record<string, unknown> = {}): KubeObject {
  return jsonpatch.applyPatch(structuredClone(object), patchOf(object, parameters), true, false)
    .newDocument;
}

/** The projected volume the ServiceAccount admission plugin injects. */
function injectedVolume(name: string) {
  return {
    name,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
        { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
        {
          downwardAPI: {
            items: [
              {
                path: "namespace",
                fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" },
              },
            ],
          },
        },
      ],
    },
  };
}

function tokenMount(name: string) {
  return { name, mountPath: TOKEN_PATH, readOnly: true };
}

function pod(spec: Record<string, unknown>): KubeObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "apps" }, spec };
}

function deployment(spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "d", namespace: "apps" },
    spec: {
      selector: { matchLabels: { app: "d" } },
      template: { metadata: { labels: { app: "d" } }, spec },
    },
  };
}

const APP = { name: "app", image: "mcr.microsoft.com/app:1.0" };

describe("service-account-token", () => {
  describe("which ServiceAccount", () => {
    it.each([
      ["unset", {}],
      ["empty", { serviceAccountName: "" }],
      ["default", { serviceAccountName: "default" }],
      ["default in both fields", { serviceAccountName: "default", serviceAccount: "default" }],
      ["deprecated field default", { serviceAccount: "default" }],
      ["empty name, deprecated default", { serviceAccountName: "", serviceAccount: "default" }],
      // serviceAccountName wins over the deprecated field, as in the API server.
      ["name default over deprecated", { serviceAccountName: "default", serviceAccount: "other" }],
    ])("patches a pod template on the default ServiceAccount (%s)", (_name, fields) => {
      expect(patchOf(deployment({ ...fields, containers: [APP] }))).toEqual([
        { op: "add", path: "/spec/template/spec/automountServiceAccountToken", value: false },
      ]);
    });

    it.each([
      ["its own name", { serviceAccountName: "cert-manager" }],
      ["the deprecated field", { serviceAccount: "ingress-nginx" }],
      ["the deprecated field, name empty", { serviceAccountName: "", serviceAccount: "argocd" }],
      [
        "a name over a default deprecated field",
        { serviceAccountName: "argocd", serviceAccount: "default" },
      ],
    ])("leaves a pod with a dedicated ServiceAccount alone (%s)", (_name, fields) => {
      expect(patchOf(deployment({ ...fields, containers: [APP] }))).toEqual([]);
      expect(
        patchOf(
          pod({
            ...fields,
            containers: [{ ...APP, volumeMounts: [tokenMount("kube-api-access-abcde")] }],
            volumes: [injectedVolume("kube-api-access-abcde")],
          }),
        ),
      ).toEqual([]);
    });

    it("onlyDefaultServiceAccount: false sets the field whatever the ServiceAccount", () => {
      const widened = { onlyDefaultServiceAccount: false };
      expect(
        patchOf(deployment({ serviceAccountName: "controller", containers: [APP] }), widened),
      ).toEqual([
        { op: "add", path: "/spec/template/spec/automountServiceAccountToken", value: false },
      ]);
      const operator = pod({
        serviceAccount: "operator",
        containers: [{ ...APP, volumeMounts: [tokenMount("kube-api-access-abcde")] }],
        volumes: [injectedVolume("kube-api-access-abcde")],
      });
      expect(mutated(operator, widened).spec).toEqual({
        serviceAccount: "operator",
        automountServiceAccountToken: false,
        containers: [{ ...APP, volumeMounts: [] }],
        volumes: [],
      });
      // An explicit true is still the author's choice.
      expect(
        patchOf(deployment({ automountServiceAccountToken: true, containers: [APP] }), widened),
      ).toEqual([]);
    });

    it("accepts onlyDefaultServiceAccount as a boolean and nothing else", () => {
      const schema = policy.parameters;
      expect(schema.safeParse({ onlyDefaultServiceAccount: false }).success).toBe(true);
      expect(schema.safeParse({ onlyDefaultServiceAccount: "yes" }).success).toBe(false);
      expect(schema.safeParse({ onlyDefaultServiceAccount: true, all: true }).success).toBe(false);
    });
  });

  describe("the token volume injected into a Pod", () => {
    it("recognises it by name prefix and serviceAccountToken projection, nothing else", () => {
      const lookalikes = [
        // A user volume of another type that merely shares the prefix.
        { name: "kube-api-access-foo", configMap: { name: "settings" } },
        // Projected, but no token in it.
        {
          name: "kube-api-access-ca",
          projected: { sources: [{ configMap: { name: "kube-root-ca.crt" } }] },
        },
        // A token projection under another name (the author's own).
        { ...injectedVolume("api-token"), name: "api-token" },
      ];
      const object = pod({
        containers: [
          {
            ...APP,
            volumeMounts: [
              { name: "kube-api-access-foo", mountPath: "/etc/foo" },
              { name: "kube-api-access-ca", mountPath: "/etc/ca" },
              { name: "api-token", mountPath: "/var/run/secrets/api" },
            ],
          },
        ],
        volumes: lookalikes,
      });
      expect(patchOf(object)).toEqual([
        { op: "add", path: "/spec/automountServiceAccountToken", value: false },
      ]);
    });

    it("removes every mount from the highest index down, so each removal is valid in turn", () => {
      const name = "kube-api-access-x7k2p";
      const mount = (n: string) => ({ name: n, mountPath: `/mnt/${n}` });
      const object = pod({
        serviceAccountName: "default",
        initContainers: [
          { name: "setup", image: "i", volumeMounts: [tokenMount(name), mount("a")] },
        ],
        containers: [
          { name: "app", image: "i", volumeMounts: [mount("a"), tokenMount(name), mount("b")] },
          { name: "bare", image: "i" },
          // Two mounts of the same volume (a second path), both go.
          {
            name: "side",
            image: "i",
            volumeMounts: [tokenMount(name), mount("b"), { name, mountPath: "/token" }],
          },
        ],
        ephemeralContainers: [{ name: "debug", image: "i", volumeMounts: [tokenMount(name)] }],
        volumes: [{ name: "a", emptyDir: {} }, injectedVolume(name), { name: "b", emptyDir: {} }],
      });
      const patch = patchOf(object);
      expect(patch).toEqual([
        { op: "add", path: "/spec/automountServiceAccountToken", value: false },
        { op: "remove", path: "/spec/initContainers/0/volumeMounts/0" },
        { op: "remove", path: "/spec/containers/0/volumeMounts/1" },
        { op: "remove", path: "/spec/containers/2/volumeMounts/2" },
        { op: "remove", path: "/spec/containers/2/volumeMounts/0" },
        { op: "remove", path: "/spec/ephemeralContainers/0/volumeMounts/0" },
        { op: "remove", path: "/spec/volumes/1" },
      ]);
      // Validated operation by operation: an index that moved would throw or
      // remove the wrong element.
      const after = mutated(object) as KubeObject & { spec: Record<string, unknown> };
      expect(after.spec).toEqual({
        serviceAccountName: "default",
        automountServiceAccountToken: false,
        initContainers: [{ name: "setup", image: "i", volumeMounts: [mount("a")] }],
        containers: [
          { name: "app", image: "i", volumeMounts: [mount("a"), mount("b")] },
          { name: "bare", image: "i" },
          { name: "side", image: "i", volumeMounts: [mount("b")] },
        ],
        ephemeralContainers: [{ name: "debug", image: "i", volumeMounts: [] }],
        volumes: [
          { name: "a", emptyDir: {} },
          { name: "b", emptyDir: {} },
        ],
      });
      // A reinvocation finds nothing left to do.
      expect(patchOf(after)).toEqual([]);
    });

    it("leaves a Pod that already decided alone, volume or not", () => {
      expect(patchOf(pod({ automountServiceAccountToken: false, containers: [APP] }))).toEqual([]);
      // With false, the plugin injects nothing: such a volume is the author's.
      const explicit = pod({
        automountServiceAccountToken: false,
        containers: [{ ...APP, volumeMounts: [tokenMount("kube-api-access-mine")] }],
        volumes: [injectedVolume("kube-api-access-mine")],
      });
      expect(patchOf(explicit)).toEqual([]);
      expect(
        patchOf({
          ...explicit,
          spec: { ...(explicit.spec as object), automountServiceAccountToken: true },
        }),
      ).toEqual([]);
    });

    it("removes nothing from a pod template, where the plugin injects nothing", () => {
      const object = deployment({
        containers: [{ ...APP, volumeMounts: [tokenMount("kube-api-access-copied")] }],
        volumes: [injectedVolume("kube-api-access-copied")],
      });
      expect(patchOf(object)).toEqual([
        { op: "add", path: "/spec/template/spec/automountServiceAccountToken", value: false },
      ]);
    });

    it("tolerates odd shapes without throwing", () => {
      for (const volumes of [
        undefined,
        "x",
        [null, 3, { name: 7 }, { name: "kube-api-access-z" }],
      ]) {
        const object = pod({ containers: [{ ...APP, volumeMounts: "x" }, null], volumes });
        expect(patchOf(object)).toEqual([
          { op: "add", path: "/spec/automountServiceAccountToken", value: false },
        ]);
      }
      const noMounts = pod({
        containers: [{ ...APP, volumeMounts: [null, { name: 1 }] }],
        volumes: [
          {
            name: "kube-api-access-z",
            projected: { sources: [null, { serviceAccountToken: {} }] },
          },
        ],
      });
      expect(patchOf(noMounts)).toEqual([
        { op: "add", path: "/spec/automountServiceAccountToken", value: false },
        { op: "remove", path: "/spec/volumes/0" },
      ]);
    });
  });

  describe("the shipped examples", () => {
    const fail = exampleObjects(ID, "fail");
    const expected = exampleObjects(ID, "mutated");

    it.each(
      fail.map((object, i) => [`${object.kind}/${object.metadata?.name}`, object, i] as const),
    )("fast-json-patch turns the original %s into its mutated example", (_name, object, index) => {
      const patch = patchOf(object);
      const { newDocument } = jsonpatch.applyPatch(structuredClone(object), patch, true, false);
      expect(newDocument).toEqual(expected[index]);
      expect(jsonpatch.validate(patch, structuredClone(object))).toBeUndefined();
    });

    it("the Pod example loses the volume and its mounts in both containers", () => {
      const podExample = fail.find((o) => o.kind === "Pod");
      expect(podExample).toBeDefined();
      expect(patchOf(podExample as KubeObject)).toEqual([
        { op: "add", path: "/spec/automountServiceAccountToken", value: false },
        { op: "remove", path: "/spec/initContainers/0/volumeMounts/0" },
        { op: "remove", path: "/spec/containers/0/volumeMounts/1" },
        { op: "remove", path: "/spec/volumes/1" },
      ]);
    });

    it("composes with security-defaults into one valid patch", () => {
      const podExample = fail.find((o) => o.kind === "Pod") as KubeObject;
      const { patch, mutatedBy } = run(onlyPolicies(["security-defaults", ID]), podExample, {
        phase: "mutate",
      });
      expect(mutatedBy).toEqual(["security-defaults", ID]);
      const after = jsonpatch.applyPatch(structuredClone(podExample), patch, true, false)
        .newDocument as { spec: { automountServiceAccountToken: boolean; volumes: unknown[] } };
      expect(after.spec.automountServiceAccountToken).toBe(false);
      expect(after.spec.volumes).toEqual([{ name: "tmp", emptyDir: {} }]);
    });

    it("never patches a Pod on UPDATE (its spec is immutable)", () => {
      const podExample = fail.find((o) => o.kind === "Pod") as KubeObject;
      const verdict = run(onlyPolicies([ID]), podExample, {
        phase: "mutate",
        operation: "UPDATE",
        oldObject: podExample,
      });
      expect(verdict.patch).toEqual([]);
    });
  });
});
