// Real headless Chromium (Debian's chromium package) driven by playwright-core.

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** TOLLGATE_CHROMIUM, else the first Chromium installed in the usual places. */
export function chromiumPath(): string {
  const chosen = process.env.TOLLGATE_CHROMIUM ?? CANDIDATES.find((c) => existsSync(c));
  if (!chosen || !existsSync(chosen)) {
    throw new Error(
      "no Chromium found: apt-get install -y chromium, or set TOLLGATE_CHROMIUM to its executable",
    );
  }
  return chosen;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    // Tests run as root in CI, where Chromium's sandbox cannot start.
    chromiumSandbox: false,
    timeout: 30_000,
    args: ["--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
  });
}

/** Where the test run writes its screenshots (ignored by git). */
export const SCREENSHOTS = fileURLToPath(new URL("../.screenshots/", import.meta.url));

/** Saves the whole page, or with `fullPage: false` what the window shows. */
export async function screenshot(page: Page, name: string, fullPage = true): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}

/** Console errors, page errors and dialogs a page produced; all should stay empty. */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning")
      problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("dialog", (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  return problems;
}
