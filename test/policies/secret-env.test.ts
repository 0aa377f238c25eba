import { describe, expect, it } from "vitest";
import { resolvePolicySet } from "../../src/policyset/index.js";
import { objectOf, onlyPolicies, run, shippedPolicies } from "../support/policies.js";

function podWithEnv(env: unknown[], group = "containers"): ReturnType<typeof objectOf> {
  return objectOf(
    JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", namespace: "apps" },
      spec: {
        containers: [{ name: "app", image: "mcr.microsoft.com/app:1.0" }],
        [group]: [{ name: "c", image: "mcr.microsoft.com/c:1.0", env }],
      },
    }),
  );
}

function flaggedNames(env: unknown[], parameters: Record<string, unknown> = {}): string[] {
  const verdict = run(onlyPolicies(["secret-env"], parameters), podWithEnv(env));
  return verdict.violations.map((v) => /env "([^"]+)"/.exec(v.message)?.[1] ?? "?");
}

describe("secret-env", () => {
  it("never echoes a secret value anywhere in the verdict", () => {
    const secrets = [
      "correct-horse-battery-staple",
      "DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey=c2VjcmV0LWFjY291bnQta2V5;EndpointSuffix=core.windows.net",
      "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LXJzYS1rZXk=\n-----END RSA PRIVATE KEY-----\n",
      "postgres://app:pg-s3cret-pass@db.example.com:5432/app",
      "Server=tcp:sql.example.com;User ID=app;Password=sql-s3cret-pass;",
      "https://contoso.blob.core.windows.net/c?sv=2022-11-02&sig=c2FzLXNpZ25hdHVyZQ%3D",
    ];
    const env = secrets.map((value, i) => ({ name: i === 0 ? "DB_PASSWORD" : `V${i}`, value }));
    const verdict = run(onlyPolicies(["secret-env"]), podWithEnv(env), { mode: "warn" });
    expect(verdict.violations).toHaveLength(secrets.length);
    const everything = JSON.stringify(verdict);
    for (const secret of ["correct-horse", "c2VjcmV0", "pg-s3cret", "sql-s3cret", "c2FzLXNp"]) {
      expect(everything).not.toContain(secret);
    }
  });

  it("matches names case-insensitively and anywhere in the name", () => {
    const env = ["dbPassword", "MY_APIKEY", "Client_Secret", "SAS_TOKEN", "DB_PWD"].map((name) => ({
      name,
      value: "x",
    }));
    expect(flaggedNames(env)).toEqual([
      "dbPassword",
      "MY_APIKEY",
      "Client_Secret",
      "SAS_TOKEN",
      "DB_PWD",
    ]);
  });

  it("leaves ordinary names, references, empty values and ignored suffixes alone", () => {
    const env = [
      { name: "PWD", value: "/app" },
      { name: "LOG_LEVEL", value: "debug" },
      { name: "DB_PASSWORD", value: "" },
      { name: "DB_PASSWORD", value: "$(FROM_SECRET)" },
      { name: "DB_PASSWORD_FILE", value: "/mnt/secrets-store/db" },
      { name: "TOKEN_ENDPOINT", value: "https://login.microsoftonline.com/t/oauth2/v2.0/token" },
      { name: "API_KEY", valueFrom: { secretKeyRef: { name: "s", key: "k" } } },
      { name: "STORAGE", value: "AccountName=contoso;AccountKey=$(STORAGE_KEY)" },
      { name: "DB_URL", value: "postgres://app:$(DB_PASS)@db:5432/app" },
    ];
    expect(flaggedNames(env)).toEqual([]);
  });

  it("checks credential-looking values even under ignored names", () => {
    const env = [{ name: "CERT_PATH", value: "-----BEGIN EC PRIVATE KEY-----\nAAAA\n" }];
    expect(flaggedNames(env)).toEqual(["CERT_PATH"]);
  });

  it("covers ephemeral containers", () => {
    const verdict = run(
      onlyPolicies(["secret-env"]),
      podWithEnv([{ name: "ADMIN_PASSWORD", value: "x" }], "ephemeralContainers"),
    );
    expect(verdict.violations.map((v) => v.path)).toEqual([
      "spec.ephemeralContainers[0].env[0].value",
    ]);
  });

  it("skips envFrom, whose values it cannot see", () => {
    const pod = objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: p, namespace: apps }
spec:
  containers:
    - name: app
      image: mcr.microsoft.com/app:1.0
      envFrom:
        - configMapRef: { name: settings }
        - secretRef: { name: secrets }
`);
    expect(run(onlyPolicies(["secret-env"]), pod).violations).toEqual([]);
  });

  it("denies in enforce mode", () => {
    const verdict = run(onlyPolicies(["secret-env"]), podWithEnv([{ name: "TOKEN", value: "x" }]));
    expect(verdict.allowed).toBe(false);
  });

  it("uses overridden name patterns and ignore lists", () => {
    const env = [
      { name: "DB_PASSWORD", value: "x" },
      { name: "LICENCE", value: "x" },
      { name: "DB_PASSWORD_FILE", value: "/mnt/x" },
    ];
    expect(flaggedNames(env, { namePatterns: ["^licen[cs]e$"] })).toEqual(["LICENCE"]);
    expect(flaggedNames(env, { ignoredNamePatterns: [] })).toEqual([
      "DB_PASSWORD",
      "DB_PASSWORD_FILE",
    ]);
    expect(flaggedNames(env, { namePatterns: [] })).toEqual([]);
  });

  it("rejects a pattern that is not a regular expression, naming the field", () => {
    const file = {
      apiVersion: "tollgate.dev/v1alpha1",
      kind: "PolicySet",
      policies: { "secret-env": { parameters: { namePatterns: ["PASSWORD", "(unclosed"] } } },
    };
    expect(() => resolvePolicySet(shippedPolicies(), file, "set.yaml")).toThrow(
      "set.yaml: policies.secret-env.parameters.namePatterns[1]: is not a valid regular expression",
    );
  });
});
