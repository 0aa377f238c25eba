import { X509Certificate } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  FileTlsSource,
  inspectTlsMaterial,
  readTlsMaterial,
  TlsMaterialError,
  type TlsReloadEvent,
} from "../../src/certificates/files.js";
import { type CertificateBundle, generateCertificates } from "../../src/certificates/generate.js";
import type { TlsMaterial } from "../../src/certificates/source.js";

let first: CertificateBundle;
let second: CertificateBundle;
const cleanup: (() => void)[] = [];

beforeAll(async () => {
  [first, second] = await Promise.all([
    generateCertificates({ hosts: ["localhost", "127.0.0.1"], validDays: 2 }),
    generateCertificates({ hosts: ["localhost", "127.0.0.1"], validDays: 2 }),
  ]);
});

afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tollgate-tls-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function fingerprint(material: TlsMaterial): string {
  return new X509Certificate(material.cert).fingerprint256;
}

function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error("timed out"));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

function open(dir: string, events: TlsReloadEvent[] = []): FileTlsSource {
  const source = new FileTlsSource({
    certFile: join(dir, "tls.crt"),
    keyFile: join(dir, "tls.key"),
    debounceMs: 50,
    pollIntervalMs: 0,
    onReload: (event) => events.push(event),
  });
  cleanup.push(() => source.close());
  return source;
}

describe("inspectTlsMaterial", () => {
  it("accepts a matching pair and describes it", () => {
    const info = inspectTlsMaterial({ cert: first.cert, key: first.key });
    expect(info.subjectAltName).toContain("IP Address:127.0.0.1");
    expect(info.notAfter.getTime()).toBeGreaterThan(Date.now());
  });

  it("names the file at fault", () => {
    const files = { certFile: "/c/tls.crt", keyFile: "/c/tls.key" };
    expect(() => inspectTlsMaterial({ cert: first.cert, key: second.key }, files)).toThrow(
      "/c/tls.key: is not the key of /c/tls.crt",
    );
    expect(() => inspectTlsMaterial({ cert: "junk", key: first.key }, files)).toThrow(
      "/c/tls.crt: is not a PEM certificate",
    );
    expect(() => inspectTlsMaterial({ cert: first.cert, key: "junk" }, files)).toThrow(
      TlsMaterialError,
    );
  });

  it("reports a missing file by name", () => {
    expect(() => readTlsMaterial("/nope/tls.crt", "/nope/tls.key")).toThrow(
      "/nope/tls.crt: cannot read file (ENOENT)",
    );
  });
});

describe("FileTlsSource", () => {
  it("picks up a new pair written in place, after both files changed", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "tls.crt"), first.cert);
    writeFileSync(join(dir, "tls.key"), first.key);
    const events: TlsReloadEvent[] = [];
    const source = open(dir, events);
    const seen: string[] = [];
    source.onChange((material) => seen.push(fingerprint(material)));
    expect(fingerprint(source.current())).toBe(fingerprint(first));

    // The certificate first and the key a while later, as two separate updates.
    writeFileSync(join(dir, "tls.crt"), second.cert);
    await until(() => events.length > 0);
    expect(events[0]?.ok).toBe(false);
    expect(fingerprint(source.current())).toBe(fingerprint(first));
    writeFileSync(join(dir, "tls.key"), second.key);
    await until(() => seen.length > 0);
    expect(seen).toEqual([fingerprint(second)]);
    expect(fingerprint(source.current())).toBe(fingerprint(second));
    expect(events.at(-1)?.ok).toBe(true);
  });

  it("keeps the current pair when the new one is invalid, and says why once", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "tls.crt"), first.cert);
    writeFileSync(join(dir, "tls.key"), first.key);
    const events: TlsReloadEvent[] = [];
    const source = open(dir, events);
    let changes = 0;
    source.onChange(() => changes++);
    writeFileSync(join(dir, "tls.key"), second.key);
    await until(() => events.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(source.reload()).toBe(false);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ ok: false });
    expect(String(!events[0]?.ok && events[0]?.error.message)).toContain("is not the key of");
    expect(changes).toBe(0);
    expect(fingerprint(source.current())).toBe(fingerprint(first));
  });

  it("follows a Kubernetes Secret volume's atomic ..data symlink swap", async () => {
    const dir = tempDir();
    const writeVersion = (name: string, bundle: CertificateBundle) => {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, "tls.crt"), bundle.cert);
      writeFileSync(join(dir, name, "tls.key"), bundle.key);
    };
    writeVersion("..2024_01_01_00_00_00.000000001", first);
    symlinkSync("..2024_01_01_00_00_00.000000001", join(dir, "..data"));
    symlinkSync("..data/tls.crt", join(dir, "tls.crt"));
    symlinkSync("..data/tls.key", join(dir, "tls.key"));
    const source = open(dir);
    const seen: string[] = [];
    source.onChange((material) => seen.push(fingerprint(material)));
    expect(fingerprint(source.current())).toBe(fingerprint(first));

    // What the kubelet's atomic writer does: new directory, new symlink, rename over ..data.
    writeVersion("..2024_01_02_00_00_00.000000002", second);
    symlinkSync("..2024_01_02_00_00_00.000000002", join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
    rmSync(join(dir, "..2024_01_01_00_00_00.000000001"), { recursive: true });

    await until(() => seen.length > 0);
    expect(seen).toEqual([fingerprint(second)]);
  });

  it("tolerates the files vanishing for a moment", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "tls.crt"), first.cert);
    writeFileSync(join(dir, "tls.key"), first.key);
    const source = open(dir);
    unlinkSync(join(dir, "tls.crt"));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(fingerprint(source.current())).toBe(fingerprint(first));
    writeFileSync(join(dir, "tls.crt.tmp"), second.cert);
    writeFileSync(join(dir, "tls.key.tmp"), second.key);
    renameSync(join(dir, "tls.key.tmp"), join(dir, "tls.key"));
    renameSync(join(dir, "tls.crt.tmp"), join(dir, "tls.crt"));
    await until(() => fingerprint(source.current()) === fingerprint(second));
  });

  it("finds a change by polling when no file event arrives", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "tls.crt"), first.cert);
    writeFileSync(join(dir, "tls.key"), first.key);
    const source = new FileTlsSource({
      certFile: join(dir, "tls.crt"),
      keyFile: join(dir, "tls.key"),
      debounceMs: 10,
      pollIntervalMs: 50,
    });
    cleanup.push(() => source.close());
    // Stand-in for a lost event: change the files, then rely on the poll.
    writeFileSync(join(dir, "tls.key"), second.key);
    writeFileSync(join(dir, "tls.crt"), second.cert);
    await until(() => fingerprint(source.current()) === fingerprint(second));
  });

  it("refuses to start on an unusable pair", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "tls.crt"), first.cert);
    writeFileSync(join(dir, "tls.key"), second.key);
    expect(() => open(dir)).toThrow(TlsMaterialError);
  });
});
