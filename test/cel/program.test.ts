import { describe, expect, it } from "vitest";
import {
  CelCompileError,
  type CelOrigin,
  compileCel,
  createCelEnvironment,
  toCel,
} from "../../src/cel/index.js";

const env = createCelEnvironment();
const origin: CelOrigin = {
  file: "team.yaml",
  policy: "cost-centre",
  field: "validations[0].expression",
};

function run(expression: string, activation: Record<string, unknown> = {}, budget?: number) {
  return compileCel(env, expression, origin).run(activation, budget);
}

function value(expression: string, activation: Record<string, unknown> = {}) {
  const result = run(expression, activation);
  if (!result.ok) throw new Error(`${expression}: ${result.error}`);
  return result.value;
}

const deployment = toCel({
  metadata: { name: "web", labels: { team: "shop" } },
  spec: {
    replicas: 3,
    template: { spec: { containers: [{ name: "a", resources: { limits: { memory: "512Mi" } } }] } },
  },
});

describe("compiling CEL", () => {
  it("names file, policy, field, expression and position of a syntax error", () => {
    const error = (() => {
      try {
        compileCel(env, "object.metadata.name ==\n  && true", origin);
      } catch (e) {
        return e;
      }
    })() as CelCompileError;
    expect(error).toBeInstanceOf(CelCompileError);
    expect(error.line).toBe(2);
    expect(error.column).toBe(3);
    expect(error.message).toContain("team.yaml: policy cost-centre: validations[0].expression:");
    expect(error.message).toContain('"object.metadata.name ==\\n  && true"');
  });

  it("rejects unknown functions and variables at load, not at run time", () => {
    expect(() => compileCel(env, "object.metadata.name.shout()", origin)).toThrow(
      /no matching overload/,
    );
    expect(() => compileCel(env, "authorizer.group('apps')", origin)).toThrow(
      /unknown variable: authorizer/,
    );
    expect(() => compileCel(env, "1 + 'a'", origin)).toThrow(CelCompileError);
  });

  // The real kube-apiserver (1.37) refused VAPs using cel.bind: its CEL
  // environment does not declare the bindings library. Refused here too, so
  // that an offline pass never hides a policy the cluster would not accept.
  it("refuses cel.bind, which the API server's environment does not declare, at its position", () => {
    const error = (() => {
      try {
        compileCel(
          env,
          "object.spec.replicas > 1 &&\n  cel.bind(r, object.spec.replicas, r < 9)",
          origin,
        );
      } catch (e) {
        return e;
      }
    })() as CelCompileError;
    expect(error).toBeInstanceOf(CelCompileError);
    expect(error.problem).toContain("has no cel.bind; use a variables entry instead");
    expect([error.line, error.column]).toEqual([2, 3]);
    // A variable or field called cel is still fine; only the function is refused.
    expect(value("{'cel': {'bind': 2}}.cel.bind")).toBe(2n);
  });

  it("rejects a validation that cannot return bool", () => {
    expect(() => compileCel(env, "'text'", origin, "bool")).toThrow(/must return bool, not string/);
    expect(compileCel(env, "object.spec.paused", origin, "bool").expression).toBe(
      "object.spec.paused",
    );
  });
});

describe("toCel", () => {
  it("converts integers to ints, copying only the branches that hold one", () => {
    const labels = { app: "web" };
    const containers = [{ name: "a", image: "x", ports: [{ containerPort: 80 }] }];
    const input = {
      metadata: { name: "web", labels },
      spec: { replicas: 3, ratio: 0.5, containers },
    };
    const before = structuredClone(input);
    const out = toCel(input) as typeof input & {
      spec: { replicas: unknown; containers: unknown[] };
    };
    expect(out.spec.replicas).toBe(3n);
    expect(out.spec.ratio).toBe(0.5);
    expect(
      (out.spec.containers[0] as { ports: { containerPort: unknown }[] }).ports[0]?.containerPort,
    ).toBe(80n);
    // Nothing to convert under metadata: shared, not copied.
    expect(out.metadata).toBe(input.metadata);
    expect(out.spec).not.toBe(input.spec);
    expect(input).toEqual(before);
  });
});

describe("evaluating CEL", () => {
  it("treats JSON integers as CEL ints, as the API server's typed objects are", () => {
    expect(value("object.spec.replicas + 1 == 4", { object: deployment })).toBe(true);
    expect(value("object.spec.replicas * 2", { object: deployment })).toBe(6n);
  });

  it("returns runtime errors as results", () => {
    expect(run("object.spec.missing == 1", { object: deployment })).toEqual({
      ok: false,
      error: "no such key: missing",
      overBudget: false,
    });
    expect(run("1 / 0")).toMatchObject({ ok: false, overBudget: false });
  });

  it("stops an expression that spends its budget, with an error result", () => {
    const list = Array.from({ length: 100 }, (_, i) => BigInt(i));
    const nested = "object.all(a, object.all(b, object.all(c, a + b + c >= 0)))";
    const result = run(nested, { object: list }, 100_000);
    expect(result).toEqual({
      ok: false,
      error: "cost budget of 100000 exceeded",
      overBudget: true,
    });
    // The same program is usable again afterwards, and a small input fits.
    expect(run(nested, { object: list.slice(0, 5) }, 100_000)).toEqual({ ok: true, value: true });
  });

  it("charges one unit per evaluated node, so cost grows linearly with the input", () => {
    const program = compileCel(env, "object.all(x, x >= 0)", origin);
    const spent = (n: number) => {
      // Find the smallest budget that suffices by halving: cost is deterministic.
      const input = { object: Array.from({ length: n }, (_, i) => BigInt(i)) };
      let low = 0;
      let high = 1_000_000;
      while (high - low > 1) {
        const mid = (low + high) >> 1;
        if (program.run(input, mid).ok) high = mid;
        else low = mid;
      }
      return high;
    };
    const perItem = spent(200) - spent(100);
    expect(perItem).toBeGreaterThan(0);
    expect(spent(400) - spent(200)).toBe(2 * perItem);
  });

  it("charges for the size of strings an expression builds", () => {
    const doubling =
      "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20].map(i, object).all(s, size(s + s + s + s) > 0)";
    expect(run(doubling, { object: "x".repeat(100_000) }, 100_000)).toMatchObject({
      overBudget: true,
    });
    expect(run(doubling, { object: "x" }, 100_000)).toEqual({ ok: true, value: true });
  });
});

describe("Kubernetes CEL libraries", () => {
  const cases: [string, unknown][] = [
    ["quantity('1Gi').compareTo(quantity('1024Mi'))", 0n],
    ["quantity('500m').isLessThan(quantity('1'))", true],
    ["quantity('1.5').isInteger()", false],
    ["quantity('2k').asInteger()", 2000n],
    ["quantity('1e3') == quantity('1k')", true],
    ["quantity('1Gi').add(quantity('1Gi')).compareTo(quantity('2Gi'))", 0n],
    ["quantity('1').sub(1).sign()", 0n],
    ["quantity('250m').asApproximateFloat()", 0.25],
    ["isQuantity('12Qi')", false],
    ["'registry.corp.test/app'.matches('^registry\\\\.corp\\\\.test/')", true],
    ["'abc 123 def 45'.find('[0-9]+')", "123"],
    ["'abc 123 def 45'.findAll('[0-9]+')", ["123", "45"]],
    ["'abc 123 def 45'.findAll('[0-9]+', 1)", ["123"]],
    ["[1, 2, 3].isSorted() && ![2, 1].isSorted()", true],
    ["[1, 2, 3].sum()", 6n],
    ["[3, 1, 2].min()", 1n],
    ["['b', 'c', 'a'].max()", "c"],
    ["[1, 2, 1].indexOf(1)", 0n],
    ["[1, 2, 1].lastIndexOf(1)", 2n],
    ["[2, 1, 2].distinct()", [2n, 1n]],
    ["[[1], [2, 3]].flatten()", [1n, 2n, 3n]],
    ["[3, 1, 2].sort()", [1n, 2n, 3n]],
    ["sets.contains([1, 2, 3], [3, 1])", true],
    ["sets.equivalent([1, 2], [2, 1, 1])", true],
    ["sets.intersects([1], [2])", false],
    ["'Hello'.lowerAscii() + 'x'.upperAscii()", "helloX"],
    ["'a.b.c'.replace('.', '/')", "a/b/c"],
    ["'a.b.c'.replace('.', '/', 1)", "a/b.c"],
    ["'abc'.charAt(1)", "b"],
    ["'abc'.reverse()", "cba"],
    ["'a,b'.split(',')", ["a", "b"]],
    ["['a', 'b'].join('-')", "a-b"],
    ["'  x '.trim()", "x"],
    ["url('https://example.com:8443/a%20b?x=1&x=2').getHost()", "example.com:8443"],
    ["url('https://example.com:8443/a').getPort()", "8443"],
    ["url('https://[::1]/').getHostname()", "::1"],
    ["url('https://example.com/a%20b').getEscapedPath()", "/a%20b"],
    ["url('https://example.com/?x=1&x=2').getQuery()['x']", ["1", "2"]],
    ["url('/healthz').getScheme()", ""],
    ["isURL('example.com') || isURL('not a url')", false],
    ["{'a': {}}.?a.?b.orValue('none')", "none"],
    ["optional.ofNonZeroValue('').hasValue()", false],
    ["optional.of(1).value()", 1n],
  ];
  it.each(cases)("%s", (expression, expected) => {
    const result = value(expression);
    expect(result instanceof Map ? Object.fromEntries(result) : result).toEqual(expected);
  });

  it("runs regular expressions in linear time (RE2), and rejects patterns RE2 does not have", () => {
    // A backtracking engine needs 2^40 steps here; RE2 answers at once.
    expect(value(`'${"a".repeat(40)}!'.matches('^(a+)+$')`)).toBe(false);
    expect(run("'a'.matches('(?=a)')")).toMatchObject({
      ok: false,
      error: expect.stringMatching(/invalid regular expression/),
    });
  });

  it("fails on an invalid quantity or URL with a message naming it", () => {
    expect(run("quantity('12Qi')")).toMatchObject({
      ok: false,
      error: expect.stringContaining('quantity("12Qi")'),
    });
    expect(run("url('nope')")).toMatchObject({
      ok: false,
      error: expect.stringContaining('url("nope")'),
    });
  });
});
