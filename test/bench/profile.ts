// Summarises a V8 CPU profile (.cpuprofile, from `node --cpu-prof` or
// `npm run bench -- --profile`): self time by function and by package, as
// shares of the time the process was busy (idle time left out).
//
//   npx tsx test/bench/profile.ts test/bench/.run/profiles/tollgate.cpuprofile [--top 30]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** `fastify`, `pino`, `src/engine`, `policies`, `node:internal` … from a script URL. */
function packageOf(url: string): string {
  if (url === "") return "(native / V8)";
  if (url.startsWith("node:"))
    return `node:${url.slice(5).split("/")[0] === "internal" ? "internal" : url.slice(5)}`;
  const modules = url.lastIndexOf("/node_modules/");
  if (modules >= 0) {
    const rest = url.slice(modules + "/node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const local = /\/(?:dist\/)?(src\/[^/]+|policies|test\/[^/]+)\//.exec(url);
  return local?.[1] ?? url;
}

export function summarise(profile: Profile, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  let total = 0;
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    // Idle time is left out: shares are of the time the process was busy.
    if (functionName === "(idle)") continue;
    if (functionName === "(program)") {
      byPackage.set(functionName, (byPackage.get(functionName) ?? 0) + us);
      total += us;
      continue;
    }
    const file = url.replace(/^.*\/(node_modules|src|policies|dist)\//, "$1/");
    const key = `${functionName || "(anonymous)"}  ${file}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const pkg = functionName === "(garbage collector)" ? "(garbage collector)" : packageOf(url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    total += us;
  }
  const share = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
  const lines = [`busy time sampled: ${(total / 1e6).toFixed(2)}s`, "", "self time by package:"];
  for (const [pkg, us] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
    lines.push(`  ${share(us)}  ${pkg}`);
  }
  lines.push("", `self time by function (top ${top}):`);
  for (const [fn, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`  ${share(us)}  ${fn}`);
  }
  return lines.join("\n");
}

const isMain = import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: "string", default: "30" } },
  });
  for (const file of positionals) {
    const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
    process.stdout.write(`== ${file}\n${summarise(profile, Number(values.top))}\n\n`);
  }
}
