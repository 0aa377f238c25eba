import { type FSWatcher, type Stats, statSync, watch } from "node:fs";
import { basename, dirname, resolve } from "node:path";

export interface WatchOptions {
  /** Quiet time after the last event before `onChange` runs. */
  debounceMs?: number;
  /**
   * Safety net for events the platform drops (or a watched directory that is
   * replaced): every so often the files' identities are compared and a change
   * is reported. 0 disables polling.
   */
  pollIntervalMs?: number;
  /** Called when a directory cannot be watched; polling keeps working. */
  onWatchError?: (directory: string, error: Error) => void;
}

export interface FileWatch {
  close(): void;
}

function identity(file: string): string {
  try {
    // Follows symlinks, so a Kubernetes `..data` swap shows up as a new inode.
    const stats: Stats = statSync(file);
    return `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
  } catch {
    return "missing";
  }
}

/**
 * Watches files through their directories, which is what survives editors
 * that write a temporary file and rename it, and Kubernetes, which mounts
 * Secrets and ConfigMaps as symlinks into a `..data` directory it swaps
 * atomically. Bursts of events (two files written one after the other, a
 * rename sequence) collapse into one `onChange` call after `debounceMs`.
 *
 * `onChange` may run when nothing relevant changed; callers compare contents.
 */
export function watchFiles(
  files: readonly string[],
  onChange: () => void,
  options: WatchOptions = {},
): FileWatch {
  const debounceMs = options.debounceMs ?? 200;
  const pollIntervalMs = options.pollIntervalMs ?? 30_000;
  const absolute = files.map((f) => resolve(f));
  const names = new Set(absolute.map((f) => basename(f)));
  const directories = [...new Set(absolute.map((f) => dirname(f)))];

  let timer: NodeJS.Timeout | undefined;
  let firstEventAt = 0;
  let closed = false;
  let seen = absolute.map(identity).join("|");

  const fire = () => {
    timer = undefined;
    if (closed) return;
    seen = absolute.map(identity).join("|");
    onChange();
  };

  const schedule = () => {
    if (closed) return;
    const now = Date.now();
    if (timer) {
      // Keep postponing while events keep coming, but not forever.
      if (now - firstEventAt > debounceMs * 5) return;
      clearTimeout(timer);
    } else {
      firstEventAt = now;
    }
    timer = setTimeout(fire, debounceMs);
    timer.unref();
  };

  const watchers: FSWatcher[] = [];
  for (const directory of directories) {
    try {
      const watcher = watch(directory, { persistent: false }, (_event, filename) => {
        // `..data` and friends are how Kubernetes swaps a mounted volume's content.
        const name = filename?.toString();
        if (!name || names.has(name) || name.startsWith("..")) schedule();
      });
      watcher.on("error", (error) => options.onWatchError?.(directory, error));
      watchers.push(watcher);
    } catch (error) {
      options.onWatchError?.(directory, error as Error);
    }
  }

  const poll =
    pollIntervalMs > 0
      ? setInterval(() => {
          if (absolute.map(identity).join("|") !== seen) schedule();
        }, pollIntervalMs)
      : undefined;
  poll?.unref();

  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      if (poll) clearInterval(poll);
      for (const watcher of watchers) watcher.close();
    },
  };
}
