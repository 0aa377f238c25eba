import { describe, expect, it } from "vitest";
import { credentialIn, repeatsQuantifiedGroup } from "../../policies/secret-env/index.js";
import { resolvePolicySet } from "../../src/policyset/index.js";
import { defaultSet, objectOf, onlyPolicies, run, shippedPolicies } from "../support/policies.js";
import { regexWork } from "../support/work.js";

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
      value: "s3cret",
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
      podWithEnv([{ name: "ADMIN_PASSWORD", value: "s3cret" }], "ephemeralContainers"),
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
    const verdict = run(
      onlyPolicies(["secret-env"]),
      podWithEnv([{ name: "TOKEN", value: "s3cret" }]),
    );
    expect(verdict.allowed).toBe(false);
  });

  it("uses overridden name patterns and ignore lists", () => {
    const env = [
      { name: "DB_PASSWORD", value: "s3cret" },
      { name: "LICENCE", value: "s3cret" },
      { name: "DB_PASSWORD_NAME", value: "db-password" },
    ];
    expect(flaggedNames(env, { namePatterns: ["^licen[cs]e$"] })).toEqual(["LICENCE"]);
    expect(flaggedNames(env, { ignoredNamePatterns: [] })).toEqual([
      "DB_PASSWORD",
      "DB_PASSWORD_NAME",
    ]);
    expect(flaggedNames(env)).toEqual(["DB_PASSWORD"]);
    expect(flaggedNames(env, { namePatterns: [] })).toEqual([]);
  });

  it("reads each name pattern on its own, also when several are given", () => {
    const env = ["DB_", "DB_DB", "XYX", "XY", "QZ", "KEYS", "MY_KEYS"].map((name) => ({
      name,
      value: "s3cret",
    }));
    // Each pattern's groups and backreferences are its own: in one joined
    // alternation, \1 of the second would refer to the first's group.
    expect(flaggedNames(env, { namePatterns: ["(Q)Z", "(DB)_\\1"] })).toEqual(["DB_DB", "QZ"]);
    expect(flaggedNames(env, { namePatterns: ["(?<p>X)Y\\k<p>", "(Q)Z"] })).toEqual(["XYX", "QZ"]);
    // Anchors and alternations stay inside their own pattern.
    expect(flaggedNames(env, { namePatterns: ["^KEY|^QZ$", "Y$"] })).toEqual(["XY", "QZ", "KEYS"]);
    expect(
      flaggedNames(env, { namePatterns: ["KEYS", "QZ"], ignoredNamePatterns: ["^MY_", "X"] }),
    ).toEqual(["QZ", "KEYS"]);
  });

  it("catches PASS, PWD and AUTH names, and judges values instead of excusing _URL or _FILE", () => {
    const env = [
      { name: "DB_PASS", value: "hunter2" },
      { name: "PASS", value: "hunter2" },
      { name: "PWD", value: "hunter2" },
      { name: "REDIS_AUTH", value: "hunter2" },
      { name: "API_KEY_URL", value: "hunter2" },
      { name: "TOKEN_FILE", value: "hunter2" },
      { name: "GIT_AUTHOR", value: "Jane" },
    ];
    expect(flaggedNames(env)).toEqual([
      "DB_PASS",
      "PASS",
      "PWD",
      "REDIS_AUTH",
      "API_KEY_URL",
      "TOKEN_FILE",
    ]);
  });

  it.each([
    ["ETCD_INITIAL_CLUSTER_TOKEN", "INSERT_ETCD_INITIAL_CLUSTER_TOKEN"],
    ["DB_PASSWORD", "changeme"],
    ["DB_PASSWORD", "CHANGE_ME"],
    ["API_KEY", "<your api key>"],
    ["API_KEY", "YOUR_API_KEY_HERE"],
    ["API_TOKEN", "$" + "{API_TOKEN}"], // a shell-style reference, filled in by the entrypoint
    ["API_TOKEN", "{{ .Values.token }}"],
    ["SECRET", "xxxxxxxx"],
    ["SECRET", "********"],
    ["ADMIN_PASSWORD", "REPLACE_WITH_A_PASSWORD"],
    ["AUTH_ENABLED", "true"],
    ["TOKEN_TTL", "3600"],
    ["SESSION_SECRET_ROTATION", "24h"],
    ["TOKEN_FILE", "/var/run/secrets/tokens/api"],
    ["API_KEY_URL", "https://vault.example.com/v1/keys/api"],
  ])("does not take the harmless %s=%s for a secret", (name, value) => {
    expect(flaggedNames([{ name, value }])).toEqual([]);
  });

  it.each([
    ["DB_PASSWORD", "Change_Now_2024!"],
    ["DB_PASSWORD", "changeme123"],
    ["API_TOKEN", "ghp_0123456789abcdef"],
    ["SECRET", "xxxxxxxy"],
  ])("still takes %s=%s for a secret", (name, value) => {
    expect(flaggedNames([{ name, value }])).toEqual([name]);
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

function podWithArgs(container: Record<string, unknown>): ReturnType<typeof objectOf> {
  return objectOf(
    JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", namespace: "apps" },
      spec: { containers: [{ name: "app", image: "mcr.microsoft.com/app:1.0", ...container }] },
    }),
  );
}

describe("secret-env on command and args", () => {
  const paths = (container: Record<string, unknown>) =>
    run(onlyPolicies(["secret-env"]), podWithArgs(container)).violations.map((v) => v.path);

  it("finds --password=… and --token … in args and in shell strings, once per argument", () => {
    expect(paths({ args: ["--user=app", "--password=hunter2"] })).toEqual([
      "spec.containers[0].args[1]",
    ]);
    expect(paths({ args: ["--api-token", "abc123", "--verbose"] })).toEqual([
      "spec.containers[0].args[0]",
    ]);
    expect(
      paths({ command: ["sh", "-c", "mysql --user=app --password='hunter2' --token=x1 db"] }),
    ).toEqual(["spec.containers[0].command[2]"]);
    expect(paths({ args: ["postgres://app:pg-s3cret@db:5432/app"] })).toEqual([
      "spec.containers[0].args[0]",
    ]);
  });

  it("names the flag, never the value", () => {
    const [v] = run(
      onlyPolicies(["secret-env"]),
      podWithArgs({ args: ["--db-password=hunter2"] }),
    ).violations;
    expect(v?.message).toContain('args[0] passes a literal value for "--db-password"');
    expect(JSON.stringify(v)).not.toContain("hunter2");
  });

  it("leaves references, placeholders, paths, switches and other flags alone", () => {
    expect(
      paths({
        args: [
          "--password=$(DB_PASSWORD)",
          "--password-file=/run/secrets/db",
          "--token-ttl=5m",
          "--anonymous-auth=false",
          "--authorization-mode=Node,RBAC",
          "--api-key=<set-me>",
          "--log-level=debug",
          "--token",
          "--verbose",
        ],
      }),
    ).toEqual([]);
  });
});

describe("secret-env on hostile input", () => {
  const MiB = 2 ** 20;

  /** What the whole default policy set hands to regexes for a Pod with one env value. */
  function regexWorkOfDefaultSet(value: string, name = "V") {
    const pod = podWithEnv([{ name, value }]);
    const set = defaultSet();
    return regexWork(() => run(set, pod));
  }

  // The old unanchored URL pattern took 1 s at 40 KB, 6 s at 80 KB and 26 s at 200 KB:
  // it retried from every letter, handing the regex engine the rest of the value each time.
  it.each([
    ["letters", (n: number) => "a".repeat(n)],
    ["letters followed by ://", (n: number) => `${"a".repeat(n)}://`],
    ["scheme://user: without @", (n: number) => "a://b:".repeat(n / 6)],
    ["PEM headers without a key", (n: number) => "-----BEGIN ".repeat(n / 11)],
    ["$( under a secret name", (n: number) => "$(".repeat(n / 2)],
  ])("reads 1 MiB more of %s with at most one more pass", (_label, make) => {
    const once = regexWorkOfDefaultSet(make(MiB), "DB_PASSWORD");
    const twice = regexWorkOfDefaultSet(make(2 * MiB), "DB_PASSWORD");
    for (const work of [once, twice]) {
      expect(work.result.violations.map((v) => v.policy)).toContain("secret-env");
    }
    // Doubling the value adds one pass over the new MiB (the PEM search reads
    // it all); a scan restarted from each position would add far more.
    expect(twice.characters - once.characters).toBeLessThanOrEqual(MiB + 64);
  });

  it("reads arguments in linear time, however many words and flags they hold", () => {
    const work = (n: number) =>
      regexWork(() =>
        run(
          onlyPolicies(["secret-env"]),
          podWithArgs({
            args: [
              "--password=x ".repeat(n),
              ...Array.from({ length: n }, () => "--db-password"),
              "a://b:".repeat(n),
            ],
          }),
        ),
      );
    const once = work(2_000);
    const twice = work(4_000);
    expect(once.result.violations.length).toBeGreaterThan(0);
    // Twice the input, at most about twice the characters scanned.
    expect(twice.characters).toBeLessThanOrEqual(2 * once.characters + 1024);
    expect(twice.calls).toBeLessThanOrEqual(2 * once.calls + 16);
  });

  it("reads credential patterns only in the first 4 KiB, but finds a PEM key anywhere", () => {
    const padding = "x".repeat(5000);
    expect(credentialIn(`${padding};Password=hunter2`)).toBeUndefined();
    expect(credentialIn(`${padding} postgres://u:p@db`)).toBeUndefined();
    expect(credentialIn(`${padding}\n-----BEGIN PRIVATE KEY-----\nAAAA`)).toBe("a PEM private key");
    expect(credentialIn(`${"x".repeat(4000)} postgres://u:p@db`)).toBe(
      "a URL with a password in it",
    );
  });

  it("finds a URL password after any scheme with a letter, as the single pattern did", () => {
    const found = (value: string) => credentialIn(value) === "a URL with a password in it";
    expect(found("jdbc:postgresql://app:s3cret@db:5432/app")).toBe(true);
    expect(found("1postgres://app:s3cret@db")).toBe(true);
    expect(found("see=Redis+TLS.v2://:s3cret@cache")).toBe(true);
    expect(found("12+.-://app:s3cret@db")).toBe(false);
    expect(found("://app:s3cret@db")).toBe(false);
    expect(found("https://app:$(PASSWORD)@db")).toBe(false);
    expect(found("https://app@db/x:y@z")).toBe(false);
    expect(found("https://db.example.com/path?next=ftp://u:p@h")).toBe(true);
  });

  it("agrees with the former credential patterns on short values", () => {
    // The patterns as they were before they were made linear; safe on short strings.
    const former: [string, RegExp][] = [
      ["a PEM private key", /-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----/],
      [
        "an Azure connection string carrying an account or shared access key",
        /(?:^|;)\s*(?:AccountKey|SharedAccessKey|SharedAccessSignature)\s*=\s*(?!\$\()[^;\s]/i,
      ],
      ["an Azure shared access signature", /[?&]sig=(?!\$\()[^&\s]{8,}/i],
      ["a connection string with a password", /(?:^|;)\s*(?:Password|Pwd)\s*=\s*(?!\$\()[^;\s]/i],
      ["a URL with a password in it", /[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:(?!\$\()[^\s/@]+@/i],
    ];
    // Random short values: the skeleton of one pattern with random pieces
    // around and between its parts, so both near misses and matches are common.
    const batches = [
      { skeleton: ["://", ":", "@"], pieces: ["a", "Z", "1", "+", "-", ":", "/", "@", "$(", " "] },
      { skeleton: ["sig=", "x9"], pieces: ["?", "&", "SIG=", "a", "$(", " ", "=", "x9"] },
      { skeleton: [], pieces: ["-----BEGIN ", "PRIVATE KEY", "-----", " BLOCK", "RSA ", " ", "a"] },
      {
        skeleton: [],
        pieces: [
          ";",
          " ",
          "\t",
          "AccountKey",
          "SharedAccessKey",
          "Password",
          "pwd",
          "=",
          "$(",
          "x",
        ],
      },
    ];
    // mulberry32 with a fixed seed, so a failure reproduces.
    let state = 12345;
    const next = () => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (t ^ (t >>> 14)) >>> 0;
    };
    for (const { skeleton, pieces } of batches) {
      const filler = (most: number) => {
        let text = "";
        for (let n = next() % (most + 1); n > 0; n--) text += pieces[next() % pieces.length];
        return text;
      };
      let flagged = 0;
      for (let i = 0; i < 5000; i++) {
        const value =
          skeleton.length > 0
            ? skeleton.map((part) => filler(2) + part).join("") + filler(2)
            : filler(12);
        if (value === "") continue;
        const expected = former.find(([, pattern]) => pattern.test(value))?.[0];
        expect(credentialIn(value), JSON.stringify(value)).toBe(expected);
        if (expected) flagged++;
      }
      // Enough of both kinds for the comparison to mean something.
      expect(flagged).toBeGreaterThan(50);
      expect(flagged).toBeLessThan(4900);
    }
  });

  it("tests only the first 256 characters of a name", () => {
    expect(flaggedNames([{ name: `DB_PASSWORD${"X".repeat(300)}`, value: "s3cret" }])).toHaveLength(
      1,
    );
    expect(flaggedNames([{ name: `${"X".repeat(300)}_PASSWORD`, value: "s3cret" }])).toEqual([]);
  });

  it.each(["(a+)+", "(.*)*", "(\\w+_?)+$", "(a|ab)*c", "^((KEY)+)+$", "(?:x+){2,}", "((a)?)+"])(
    "refuses the catastrophic name pattern %s when the set is loaded",
    (pattern) => {
      const file = {
        apiVersion: "tollgate.dev/v1alpha1",
        kind: "PolicySet",
        policies: { "secret-env": { parameters: { ignoredNamePatterns: [pattern] } } },
      };
      expect(() => resolvePolicySet(shippedPolicies(), file, "set.yaml")).toThrow(
        "set.yaml: policies.secret-env.parameters.ignoredNamePatterns[0]: repeats a group",
      );
    },
  );

  it.each([
    "CONN(ECTION)?_?STR(ING)?",
    "(SIGNING|ENCRYPTION|MASTER)_?KEY",
    "[(a+)]+",
    "\\(a+\\)+",
    "(?:API)+KEY",
    "^(?=.*KEY)",
  ])("accepts the name pattern %s", (pattern) => {
    expect(repeatsQuantifiedGroup(pattern)).toBe(false);
  });

  it("accepts every shipped name pattern", () => {
    const declared = shippedPolicies().find((p) => p.declaration.id === "secret-env");
    const parameters = declared?.declaration.parameters as Record<string, string[]>;
    const all = [...(parameters.namePatterns ?? []), ...(parameters.ignoredNamePatterns ?? [])];
    expect(all.length).toBeGreaterThan(0);
    expect(all.filter(repeatsQuantifiedGroup)).toEqual([]);
  });
});

describe("secret-env name patterns with several unbounded quantifiers", () => {
  it("are refused at load, since they take polynomial time on a crafted name", async () => {
    const { unboundedQuantifiers } = await import("../../policies/secret-env/index.js");
    expect(unboundedQuantifiers("\\w*\\w*\\w*X")).toBe(3);
    expect(unboundedQuantifiers("API_?KEY")).toBe(0);
    expect(unboundedQuantifiers("[*+]{2,}")).toBe(1);
    const file = {
      apiVersion: "tollgate.dev/v1alpha1",
      kind: "PolicySet",
      policies: { "secret-env": { parameters: { namePatterns: ["TOKEN", "\\w*\\w*X"] } } },
    };
    expect(() => resolvePolicySet(shippedPolicies(), file, "set.yaml")).toThrow(
      "set.yaml: policies.secret-env.parameters.namePatterns[1]: has more than one unbounded quantifier",
    );
  });
});
