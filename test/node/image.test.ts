// The one-node cluster runs what is published: the image test/node/image.mjs
// assembles agrees with the Dockerfile, the node overlay differs from
// deploy/base only in the image, and the node's Kubernetes components come
// from the same release as the control plane.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/engine/index.js";
import { find, REPO, render } from "../deploy/render.js";
import { TOLLGATE_CONFIG, TOLLGATE_REF } from "./image.mjs";

/** The last stage's instructions of a Dockerfile, continuation lines joined. */
function runtimeStage(text: string): { instruction: string; args: string }[] {
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const lastFrom = lines.findLastIndex((l) => /^FROM\s/i.test(l));
  return lines.slice(lastFrom).map((l) => {
    const [instruction = "", ...rest] = l.split(/\s+/);
    return { instruction: instruction.toUpperCase(), args: rest.join(" ") };
  });
}

function one(stage: ReturnType<typeof runtimeStage>, instruction: string): string {
  const found = stage.filter((s) => s.instruction === instruction);
  expect(found, `one ${instruction} in the Dockerfile's runtime stage`).toHaveLength(1);
  return (found[0] as { args: string }).args;
}

describe("the node image agrees with the Dockerfile", () => {
  const stage = runtimeStage(readFileSync(`${REPO}Dockerfile`, "utf8"));

  it("user, entrypoint, command, port and working directory", () => {
    expect(TOLLGATE_CONFIG.User).toBe(one(stage, "USER"));
    expect(TOLLGATE_CONFIG.Entrypoint).toEqual(JSON.parse(one(stage, "ENTRYPOINT")));
    expect(TOLLGATE_CONFIG.Cmd).toEqual(JSON.parse(one(stage, "CMD")));
    expect(Object.keys(TOLLGATE_CONFIG.ExposedPorts)).toEqual(
      one(stage, "EXPOSE")
        .split(/\s+/)
        .map((port) => `${port}/tcp`),
    );
    expect(TOLLGATE_CONFIG.WorkingDir).toBe(one(stage, "WORKDIR"));
    expect(TOLLGATE_CONFIG.Env).toContain(one(stage, "ENV"));
  });

  it("reads the Dockerfile it compares with", () => {
    // Guards the parser: a stage with two USER lines is refused, not merged.
    expect(() => one(runtimeStage("FROM a\nUSER 1\nUSER 2\n"), "USER")).toThrow();
    expect(runtimeStage("FROM a AS b\nRUN x \\\n y\nFROM c\nUSER 7\n")).toEqual([
      { instruction: "FROM", args: "c" },
      { instruction: "USER", args: "7" },
    ]);
  });
});

/** The Deployment's pod template, with image and pull policy taken out. */
function withoutImage(objects: KubeObject[]): KubeObject[] {
  return structuredClone(objects).map((o) => {
    if (o.kind !== "Deployment") return o;
    const containers = (o.spec as { template: { spec: { containers: Record<string, unknown>[] } } })
      .template.spec.containers;
    for (const c of containers) {
      delete c.image;
      delete c.imagePullPolicy;
    }
    return o;
  });
}

describe("deploy/overlays/node", () => {
  const base = render("base");
  const node = render("overlays/node");

  it("changes only the image and imagePullPolicy: Never", () => {
    expect(withoutImage(node)).toEqual(withoutImage(base));
    const container = (
      find(node, "Deployment", "tollgate").spec as {
        template: { spec: { containers: { image: string; imagePullPolicy: string }[] } };
      }
    ).template.spec.containers[0];
    expect(container?.image).toBe(TOLLGATE_REF);
    expect(container?.imagePullPolicy).toBe("Never");
  });

  it("runs the image as its own user on a read-only root file system", () => {
    const spec = (
      find(node, "Deployment", "tollgate").spec as {
        template: {
          spec: {
            containers: {
              securityContext: {
                runAsUser: number;
                runAsGroup: number;
                readOnlyRootFilesystem: boolean;
              };
              ports: { containerPort: number }[];
            }[];
          };
        };
      }
    ).template.spec;
    const c = spec.containers[0];
    expect(`${c?.securityContext.runAsUser}:${c?.securityContext.runAsGroup}`).toBe(
      TOLLGATE_CONFIG.User,
    );
    expect(c?.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(c?.ports.map((p) => `${p.containerPort}/tcp`)).toEqual(
      Object.keys(TOLLGATE_CONFIG.ExposedPorts),
    );
  });
});

/** `module version` of every require line of a go.mod. */
function requires(path: string): Map<string, string> {
  const text = readFileSync(path, "utf8");
  const found = new Map<string, string>();
  for (const m of text.matchAll(/^\t(\S+) (v\S+)(?: \/\/ indirect)?$/gm)) {
    found.set(m[1] as string, m[2] as string);
  }
  return found;
}

describe("the node's Go module", () => {
  it("pins every module it shares with the control plane at the same version", () => {
    const controlPlane = requires(`${REPO}test/e2e/controlplane/go.mod`);
    const node = requires(`${REPO}test/node/go.mod`);
    expect(node.get("k8s.io/kubernetes")).toBe(controlPlane.get("k8s.io/kubernetes"));
    const shared = [...node.keys()].filter((m) => controlPlane.has(m));
    expect(shared.length).toBeGreaterThan(100);
    const differing = shared.filter((m) => node.get(m) !== controlPlane.get(m));
    expect(differing).toEqual([]);
  });
});
