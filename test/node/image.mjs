#!/usr/bin/env node
// Builds the images of the one-node cluster without Docker or any registry:
// docker-archive tars (one layer, a config, manifest.json with RepoTags) that
// `ctr images import` loads.
//
//   node test/node/image.mjs OUT_DIR
//
//   node test/node/image.mjs OUT_DIR --cert-manager BIN_DIR
//
// writes OUT_DIR/{tollgate,busybox,busybox-nonroot,pause}.tar, and with
// --cert-manager also OUT_DIR/cert-manager.tar from the controller and
// cainjector binaries of test/node/cert-manager/build.sh. The Tollgate
// image is dist/ (run `npm run build` first), production node_modules and the
// Node.js binary of the machine's `nodejs` Debian package with the shared
// libraries it links; its user, entrypoint, command, port and working
// directory are those of the Dockerfile (test/node/image.test.ts compares
// them). The busybox images come from Debian's busybox-static.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export const TOLLGATE_REF = "tollgate.local/tollgate:node";
export const BUSYBOX_REF = "tollgate.local/busybox:root";
export const BUSYBOX_NONROOT_REF = "tollgate.local/busybox:nonroot";
/** containerd's sandbox_image (test/node/containerd.toml): nothing is pulled. */
export const PAUSE_REF = "tollgate.local/pause:node";
/** The numbered non-root user of BUSYBOX_NONROOT_REF. */
export const NONROOT_UID = 10001;
/** cert-manager's controller and cainjector (test/node/cert-manager), one image. */
export const CERT_MANAGER_REF = "tollgate.local/cert-manager:node";
/** The binaries that image holds, at the root of its file system. */
export const CERT_MANAGER_BINARIES = ["controller", "cainjector"];

/** The image config the Dockerfile's runtime stage declares. */
export const TOLLGATE_CONFIG = {
  User: "65532:65532",
  WorkingDir: "/app",
  Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NODE_ENV=production"],
  ExposedPorts: { "8443/tcp": {}, "9090/tcp": {} },
  Entrypoint: ["/nodejs/bin/node", "/app/dist/src/cli/main.js"],
  Cmd: ["serve", "--host", "0.0.0.0", "--port", "8443", "--state-dir", "/tmp/tollgate"],
};

const BUSYBOX_APPLETS = ["sh", "sleep", "id", "cat", "echo", "ls", "true", "wget", "env"];

function sha256File(path) {
  return new Promise((done, fail) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("end", () => done(hash.digest("hex")))
      .on("error", fail);
  });
}

/** tar of a directory with fixed owners, order and times, so a rebuild is byte-identical. */
function tarDirectory(dir, out) {
  execFileSync("tar", [
    "--sort=name",
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    "--mtime=@0",
    "-C",
    dir,
    "-cf",
    out,
    ".",
  ]);
}

/** Writes a docker-archive with one layer made of `root`. */
async function writeArchive(root, config, ref, out) {
  const work = mkdtempSync(join(tmpdir(), "tollgate-image-"));
  try {
    tarDirectory(root, join(work, "layer.tar"));
    const diffId = `sha256:${await sha256File(join(work, "layer.tar"))}`;
    const configJson = JSON.stringify({
      architecture: "amd64",
      os: "linux",
      created: "1970-01-01T00:00:00Z",
      config,
      rootfs: { type: "layers", diff_ids: [diffId] },
      history: [{ created: "1970-01-01T00:00:00Z", created_by: "test/node/image.mjs" }],
    });
    const configName = `${createHash("sha256").update(configJson).digest("hex")}.json`;
    writeFileSync(join(work, configName), configJson);
    writeFileSync(
      join(work, "manifest.json"),
      JSON.stringify([{ Config: configName, RepoTags: [ref], Layers: ["layer.tar"] }]),
    );
    const tmp = `${out}.tmp`;
    execFileSync("tar", ["--owner=0", "--group=0", "--numeric-owner", "-C", work, "-cf", tmp, "."]);
    renameSync(tmp, out);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The shared libraries `ldd` reports for a binary, loader included. */
function sharedLibraries(binary) {
  const out = execFileSync("ldd", [binary], { encoding: "utf8" });
  return [...out.matchAll(/(\/\S+\.so[^\s]*)/g)].map((m) => m[1]);
}

function copyWithLibraries(binary, root, target) {
  mkdirSync(dirname(join(root, target)), { recursive: true });
  cpSync(binary, join(root, target));
  for (const lib of new Set(sharedLibraries(binary))) {
    mkdirSync(dirname(join(root, lib)), { recursive: true });
    cpSync(lib, join(root, lib), { dereference: true });
  }
}

/**
 * Production node_modules, installed once per package-lock.json into a cache
 * outside the repository (like the Go builds) and reused by every clone.
 */
function productionModules() {
  const lock = readFileSync(join(repo, "package-lock.json"));
  const key = createHash("sha256")
    .update(lock)
    .update(readFileSync(join(repo, "package.json")))
    .digest("hex")
    .slice(0, 16);
  const cache =
    process.env.TOLLGATE_BIN_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "tollgate/bin");
  const dir = join(cache, `image-modules-${key}`);
  if (existsSync(join(dir, "node_modules"))) return join(dir, "node_modules");
  const tmp = `${dir}.tmp.${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  cpSync(join(repo, "package.json"), join(tmp, "package.json"));
  cpSync(join(repo, "package-lock.json"), join(tmp, "package-lock.json"));
  execFileSync("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"], {
    cwd: tmp,
    stdio: ["ignore", "inherit", "inherit"],
  });
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return join(dir, "node_modules");
}

function passwd(root, users) {
  mkdirSync(join(root, "etc"), { recursive: true });
  writeFileSync(
    join(root, "etc/passwd"),
    users.map(([name, id]) => `${name}:x:${id}:${id}::/home/${name}:/sbin/nologin\n`).join(""),
  );
  writeFileSync(join(root, "etc/group"), users.map(([name, id]) => `${name}:x:${id}:\n`).join(""));
}

async function tollgateImage(out) {
  const main = join(repo, "dist/src/cli/main.js");
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
  const root = mkdtempSync(join(tmpdir(), "tollgate-root-"));
  try {
    copyWithLibraries(
      execFileSync("readlink", ["-f", "/usr/bin/node"], { encoding: "utf8" }).trim(),
      root,
      "nodejs/bin/node",
    );
    mkdirSync(join(root, "app"), { recursive: true });
    cpSync(join(repo, "package.json"), join(root, "app/package.json"));
    cpSync(productionModules(), join(root, "app/node_modules"), {
      recursive: true,
      verbatimSymlinks: true,
    });
    cpSync(join(repo, "dist"), join(root, "app/dist"), {
      recursive: true,
      filter: (src) => !src.endsWith(".map") && !src.startsWith(join(repo, "dist/test")),
    });
    mkdirSync(join(root, "tmp"), { recursive: true, mode: 0o1777 });
    passwd(root, [
      ["root", 0],
      ["nonroot", 65532],
    ]);
    await writeArchive(root, TOLLGATE_CONFIG, TOLLGATE_REF, out);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function busyboxRoot() {
  const root = mkdtempSync(join(tmpdir(), "tollgate-busybox-"));
  mkdirSync(join(root, "bin"), { recursive: true });
  cpSync("/bin/busybox", join(root, "bin/busybox"));
  for (const applet of BUSYBOX_APPLETS) symlinkSync("busybox", join(root, "bin", applet));
  mkdirSync(join(root, "tmp"), { recursive: true, mode: 0o1777 });
  passwd(root, [
    ["root", 0],
    ["app", NONROOT_UID],
  ]);
  return root;
}

async function busyboxImages(outDir) {
  const root = busyboxRoot();
  const base = { Env: ["PATH=/bin"], Cmd: ["sleep", "3600"] };
  try {
    // No User: runs as root, like busybox, rabbitmq and most images.
    await writeArchive(root, base, BUSYBOX_REF, join(outDir, "busybox.tar"));
    await writeArchive(
      root,
      { ...base, User: `${NONROOT_UID}:${NONROOT_UID}` },
      BUSYBOX_NONROOT_REF,
      join(outDir, "busybox-nonroot.tar"),
    );
    // The pod sandbox: waits until stopped.
    const pause = {
      Env: ["PATH=/bin"],
      Entrypoint: [
        "/bin/sh",
        "-c",
        "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done",
      ],
    };
    await writeArchive(root, pause, PAUSE_REF, join(outDir, "pause.tar"));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Static Go binaries and nothing else: no shell, no libraries. The pod spec
 * names the binary to run; the user is the same non-root one as Tollgate's.
 */
async function certManagerImage(binDir, out) {
  const root = mkdtempSync(join(tmpdir(), "tollgate-cert-manager-"));
  try {
    for (const name of CERT_MANAGER_BINARIES) {
      const binary = join(binDir, name);
      if (!existsSync(binary))
        throw new Error(`${binary} is missing: run test/node/cert-manager/build.sh`);
      cpSync(binary, join(root, name));
    }
    mkdirSync(join(root, "tmp"), { recursive: true, mode: 0o1777 });
    passwd(root, [
      ["root", 0],
      ["nonroot", 65532],
    ]);
    const config = { User: "65532:65532", Env: ["PATH=/"], Entrypoint: ["/controller"] };
    await writeArchive(root, config, CERT_MANAGER_REF, out);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [outDir, option, certManagerBin, ...rest] = process.argv.slice(2);
  if (
    !outDir ||
    rest.length > 0 ||
    (option !== undefined && (option !== "--cert-manager" || !certManagerBin))
  ) {
    console.error("usage: node test/node/image.mjs OUT_DIR [--cert-manager BIN_DIR]");
    process.exit(2);
  }
  if (!existsSync("/bin/busybox")) {
    console.error("image.mjs: /bin/busybox is missing (apt-get install busybox-static)");
    process.exit(1);
  }
  mkdirSync(outDir, { recursive: true });
  await tollgateImage(join(outDir, "tollgate.tar"));
  await busyboxImages(outDir);
  if (certManagerBin) await certManagerImage(certManagerBin, join(outDir, "cert-manager.tar"));
  console.log(
    `images in ${outDir}: tollgate.tar busybox.tar busybox-nonroot.tar pause.tar${certManagerBin ? " cert-manager.tar" : ""}`,
  );
}
