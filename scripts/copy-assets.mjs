// Copies the data files the compiled code reads at run time into dist/:
// every policies/**/*.yaml except the examples (policy.yaml files are loaded
// relative to dist/policies/index.js) and the dashboard's page, scripts and
// styles (src/dashboard/static). Then marks the CLI entry executable.
import { chmodSync, cpSync, existsSync, statSync } from "node:fs";
import { basename, extname } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const from = `${root}policies`;
const to = `${root}dist/policies`;

let copied = 0;
cpSync(from, to, {
  recursive: true,
  filter(source) {
    if (basename(source) === "examples") return false;
    if (statSync(source).isDirectory()) return true;
    const keep = extname(source) === ".yaml";
    if (keep) copied++;
    return keep;
  },
});

cpSync(`${root}src/dashboard/static`, `${root}dist/src/dashboard/static`, { recursive: true });

const cli = `${root}dist/src/cli/main.js`;
if (existsSync(cli)) chmodSync(cli, 0o755);
console.log(
  `copy-assets: ${copied} YAML file(s) copied to dist/policies, the dashboard's page to dist/src/dashboard/static`,
);
