import { auditObject } from "./audit-object.js";
import type { AuditRun } from "./audit-run.js";
import { AuditError } from "./errors.js";
import type { KindInfo } from "./kinds.js";
import type { AuditProgress, ClusterSource } from "./types.js";

export interface ListingOptions {
  /** Namespaces to read; undefined reads the whole cluster. */
  namespaces: readonly string[] | undefined;
  pageSize: number;
  onProgress: ((progress: AuditProgress) => void) | undefined;
}

/** A kind's position in the plan, from 1, for progress reports. */
interface Step {
  step: number;
  steps: number;
}

/** Pages through one kind, in each namespace asked for, auditing every object. */
async function listKind(
  run: AuditRun,
  source: ClusterSource,
  info: KindInfo,
  options: ListingOptions,
  { step, steps }: Step,
): Promise<void> {
  const scopes = info.namespaced && options.namespaces ? [...options.namespaces] : [undefined];
  let done = 0;
  for (const namespace of scopes) {
    for await (const page of source.list(info.kind, namespace, options.pageSize)) {
      run.throwIfAborted();
      for (const item of page.items) await auditObject(run, item, info);
      done += page.items.length;
      options.onProgress?.({
        kind: info.kind,
        done,
        total: page.remaining !== undefined ? done + page.remaining : undefined,
        step,
        steps,
      });
    }
  }
  if (done === 0) options.onProgress?.({ kind: info.kind, done, total: 0, step, steps });
}

/** Reads the namespaces asked for one by one; a missing one stops the audit. */
async function readNamedNamespaces(
  run: AuditRun,
  source: ClusterSource,
  info: KindInfo,
  names: readonly string[],
  options: ListingOptions,
  { step, steps }: Step,
): Promise<void> {
  for (const name of names) {
    const namespace = await source.getNamespace(name);
    if (!namespace) throw new AuditError("not-found", `namespace "${name}" not found`);
    await auditObject(run, namespace, info);
    if (!run.deleting.has(name)) run.noteNamespace(name);
  }
  options.onProgress?.({ kind: info.kind, done: names.length, step, steps });
}

/** Lists every Namespace; auditObject notes each as it goes, and each gets a bucket. */
async function listAllNamespaces(
  run: AuditRun,
  source: ClusterSource,
  info: KindInfo,
  options: ListingOptions,
  step: Step,
): Promise<void> {
  await listKind(run, source, info, options, step);
  for (const name of run.audited) run.tally.bucket(name);
}

/** Lists and audits every kind of the plan, in plan order: Namespaces first. */
export async function listPlannedKinds(
  run: AuditRun,
  source: ClusterSource,
  options: ListingOptions,
): Promise<void> {
  const steps = run.plan.list.length;
  let step = 0;
  for (const info of run.plan.list) {
    step++;
    const at: Step = { step, steps };
    if (info.kind !== "Namespace") await listKind(run, source, info, options, at);
    else if (options.namespaces) {
      await readNamedNamespaces(run, source, info, options.namespaces, options, at);
    } else await listAllNamespaces(run, source, info, options, at);
  }
}
