import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  certificateFilesIn,
  ensureLocalCertificates,
  localHosts,
  serviceHosts,
} from "../../src/certificates/local.js";
import { register as certs } from "../../src/cli/commands/certs.js";
import type { CliIO } from "../../src/cli/context.js";
import { runCli } from "../../src/cli/program.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tollgate-certs-"));
  dirs.push(dir);
  return dir;
}

describe("development certificates", () => {
  it("cover loopback and a specific listen host, not wildcard addresses", () => {
    expect(localHosts()).toEqual(["localhost", "127.0.0.1", "::1"]);
    expect(localHosts("0.0.0.0")).toEqual(["localhost", "127.0.0.1", "::1"]);
    expect(localHosts("10.1.2.3")).toEqual(["localhost", "127.0.0.1", "::1", "10.1.2.3"]);
  });

  it("are generated once and reused while valid", async () => {
    const dir = tempDir();
    const made = await ensureLocalCertificates(dir, localHosts());
    expect(made.generated).toBe(true);
    const certificate = new X509Certificate(readFileSync(made.certFile));
    const ca = new X509Certificate(readFileSync(made.caFile));
    expect(certificate.verify(ca.publicKey)).toBe(true);
    expect(certificate.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(certificate.checkIP("::1")).toBeDefined();
    expect(certificate.checkHost("localhost")).toBe("localhost");
    expect(statSync(made.keyFile).mode & 0o777).toBe(0o600);

    const again = await ensureLocalCertificates(dir, localHosts());
    expect(again.generated).toBe(false);
    expect(readFileSync(again.certFile, "utf8")).toBe(readFileSync(made.certFile, "utf8"));

    // A host the certificate does not cover, or a broken file, means a new one.
    expect((await ensureLocalCertificates(dir, localHosts("10.9.8.7"))).generated).toBe(true);
    writeFileSync(certificateFilesIn(dir).keyFile, "junk");
    expect((await ensureLocalCertificates(dir, localHosts("10.9.8.7"))).generated).toBe(true);
  });

  it("are replaced a day before they expire", async () => {
    const dir = tempDir();
    const now = new Date();
    await ensureLocalCertificates(dir, localHosts(), { validDays: 1, now });
    expect((await ensureLocalCertificates(dir, localHosts())).generated).toBe(true);
  });
});

describe("tollgate certs", () => {
  function io() {
    const out = { stdout: "", stderr: "" };
    const cli: CliIO = {
      stdout: (text) => {
        out.stdout += text;
      },
      stderr: (text) => {
        out.stderr += text;
      },
      stdin: async function* () {},
      color: false,
      env: {},
    };
    return { out, cli };
  }

  it("writes ca.crt, tls.crt and tls.key for the Service and prints the caBundle", async () => {
    const dir = tempDir();
    const { out, cli } = io();
    const code = await runCli(
      ["certs", "--service", "gate", "--namespace", "policy", "--out", dir, "--days", "30"],
      cli,
      [certs],
    );
    expect(code).toBe(0);
    const files = certificateFilesIn(dir);
    const caPem = readFileSync(files.caFile, "utf8");
    expect(out.stdout.trim()).toBe(Buffer.from(caPem).toString("base64"));
    const certificate = new X509Certificate(readFileSync(files.certFile));
    for (const host of serviceHosts("gate", "policy")) {
      expect(certificate.checkHost(host)).toBe(host);
    }
    expect(certificate.subjectAltName).toContain("DNS:gate.policy.svc.cluster.local");
    expect(certificate.verify(new X509Certificate(caPem).publicKey)).toBe(true);
    expect(statSync(files.keyFile).mode & 0o777).toBe(0o600);
    expect(out.stderr).toContain("gate.policy.svc");
  });

  it("rejects a Service name that is not a DNS label", async () => {
    const { out, cli } = io();
    const code = await runCli(["certs", "--service", "Bad_Name", "--out", tempDir()], cli, [certs]);
    expect(code).toBe(2);
    expect(out.stderr).toContain("not a valid DNS label");
  });
});
