// deploy/overlays/localhost/render.sh: the documented way to fill in the port
// and CA bundle placeholders for a Tollgate running on 127.0.0.1.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { generateCertificates } from "../../src/certificates/generate.js";
import { objectsOf } from "../support/policies.js";
import { DEPLOY, findKubectl, pathOf, webhooksOf } from "./render.js";

const SCRIPT = `${DEPLOY}overlays/localhost/render.sh`;
const dir = mkdtempSync(join(tmpdir(), "tollgate-localhost-"));
const caFile = join(dir, "ca.crt");
let caPem = "";

function run(...args: string[]) {
  return spawnSync("sh", [SCRIPT, ...args], {
    encoding: "utf8",
    env: { ...process.env, KUBECTL: findKubectl() },
    timeout: 60_000,
  });
}

beforeAll(async () => {
  const bundle = await generateCertificates({ hosts: ["127.0.0.1"], validDays: 1 });
  caPem = bundle.caCert;
  writeFileSync(caFile, caPem);
});

describe("localhost render.sh", () => {
  it("fills in the port and the CA bundle everywhere", () => {
    const result = run("9443", caFile);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).not.toContain("__TOLLGATE_");
    const webhooks = webhooksOf(objectsOf(result.stdout));
    expect(webhooks).toHaveLength(4);
    for (const w of webhooks) {
      expect(w.clientConfig.url).toBe(`https://127.0.0.1:9443${pathOf(w)}`);
      expect(Buffer.from(w.clientConfig.caBundle ?? "", "base64").toString("utf8")).toBe(caPem);
    }
  });

  it.each([
    [["abc", "CA"], /PORT must be a number/],
    [["70000", "CA"], /between 1 and 65535/],
    [["9443", "/nonexistent/ca.crt"], /cannot read CA file/],
    [["9443"], /usage/],
  ])("refuses %j", (args, message) => {
    const resolved = args.map((a) => (a === "CA" ? caFile : a));
    const result = run(...resolved);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe("");
  });

  it("refuses a file that holds no certificate", () => {
    const notPem = join(dir, "not.pem");
    writeFileSync(notPem, "hello\n");
    const result = run("9443", notPem);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/no PEM certificate/);
  });
});
