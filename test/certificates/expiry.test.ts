import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { certificateExpiry } from "../../src/certificates/expiry.js";
import { generateCertificates } from "../../src/certificates/generate.js";
import type { TlsMaterial, TlsSource } from "../../src/certificates/source.js";
import { registerCertificateExpiry } from "../../src/server/metrics.js";

const now = new Date("2026-01-01T00:00:00Z");
const seconds = (days: number) => Math.floor(now.getTime() / 1000) + days * 86_400;

async function pair(validDays: number) {
  return generateCertificates({ hosts: ["tollgate.tollgate-system.svc"], validDays, now });
}

describe("certificateExpiry", () => {
  it("reads the serving certificate and finds its CA in the bundle", async () => {
    const { cert, caCert } = await pair(30);
    const other = await pair(5);
    const expiry = certificateExpiry(cert, other.caCert + caCert);
    expect(expiry).toEqual({ serving: seconds(30), ca: seconds(300) });
  });

  it("finds the CA in the served chain", async () => {
    const { cert, caCert } = await pair(10);
    expect(certificateExpiry(cert + caCert)).toEqual({ serving: seconds(10), ca: seconds(100) });
  });

  it("leaves the CA out when nothing known issued the certificate", async () => {
    const { cert } = await pair(10);
    const stranger = await pair(10);
    expect(certificateExpiry(cert, stranger.caCert)).toEqual({ serving: seconds(10) });
  });

  it("says nothing about text without a certificate", () => {
    expect(certificateExpiry("not a certificate")).toEqual({});
  });
});

describe("tollgate_certificate_expiry_timestamp_seconds", () => {
  it("follows the source at every scrape", async () => {
    const first = await pair(30);
    const second = await pair(60);
    let material: TlsMaterial = first;
    let bundle = first.caCert;
    const source: TlsSource = {
      current: () => material,
      onChange: () => () => {},
      close: () => {},
      caBundle: () => bundle,
    };
    const registry = new Registry();
    registerCertificateExpiry(registry, source);
    const scrape = () => registry.metrics();
    expect(await scrape()).toContain(
      `tollgate_certificate_expiry_timestamp_seconds{certificate="serving"} ${seconds(30)}`,
    );
    expect(await scrape()).toContain(
      `tollgate_certificate_expiry_timestamp_seconds{certificate="ca"} ${seconds(300)}`,
    );
    material = second;
    bundle = second.caCert;
    const text = await scrape();
    expect(text).toContain(`{certificate="serving"} ${seconds(60)}`);
    expect(text).toContain(`{certificate="ca"} ${seconds(600)}`);
  });

  it("has no CA series for a source without a bundle", async () => {
    const { cert, key } = await pair(30);
    const registry = new Registry();
    registerCertificateExpiry(registry, {
      current: () => ({ cert, key }),
      onChange: () => () => {},
      close: () => {},
    });
    const text = await registry.metrics();
    expect(text).toContain('{certificate="serving"}');
    expect(text).not.toContain('{certificate="ca"}');
  });
});
