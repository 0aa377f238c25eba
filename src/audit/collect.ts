import { controllerOf, type KubeObject } from "../engine/index.js";
import { AuditError } from "./errors.js";
import type { KindInfo } from "./kinds.js";
import type { ListedObject } from "./listed-object.js";
import type { AuditPlan } from "./plan.js";
import { refOf } from "./resource-ref.js";
import type { AuditProgress, ClusterSource } from "./types.js";

export interface CollectOptions {
  onProgress?: ((progress: AuditProgress) => void) | undefined;
  /** Stops the listing between pages. */
  signal?: AbortSignal | undefined;
}

/** What a page slot holds once its object has been passed on. */
const RELEASED: KubeObject = Object.freeze({});

/** A kind's position in the plan, from 1, for progress reports. */
interface Step {
  step: number;
  steps: number;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AuditError("aborted", "the audit was stopped");
}

function isTerminatingNamespace(object: KubeObject, info: KindInfo): boolean {
  return (
    info.kind === "Namespace" && (object.status as { phase?: unknown })?.phase === "Terminating"
  );
}

/**
 * Places each object in its namespace. Namespaces are listed first, so by
 * the time other kinds are read the ones being deleted are known; this is
 * the only thing the listing remembers between objects.
 */
class Placement {
  private readonly deleting = new Set<string>();

  constructor(private readonly plan: AuditPlan) {}

  place(object: KubeObject, info: KindInfo): ListedObject {
    const ref = refOf(object, info);
    const home = info.kind === "Namespace" ? ref.name : ref.namespace;
    if (isTerminatingNamespace(object, info)) this.deleting.add(ref.name);
    return {
      object,
      kind: info.kind,
      ref,
      home,
      exempt: home !== undefined && this.plan.set.exemptNamespace(home),
      deleting: home !== undefined && this.deleting.has(home),
      owner: controllerOf(object),
    };
  }
}

/** Pages through one kind, in each namespace asked for. */
async function* listKind(
  source: ClusterSource,
  plan: AuditPlan,
  info: KindInfo,
  placement: Placement,
  options: CollectOptions,
  { step, steps }: Step,
): AsyncGenerator<ListedObject> {
  const scopes = info.namespaced && plan.namespaces ? [...plan.namespaces] : [undefined];
  let done = 0;
  for (const namespace of scopes) {
    for await (const page of source.list(info.kind, namespace, plan.pageSize)) {
      throwIfAborted(options.signal);
      const { items } = page;
      for (let i = 0; i < items.length; i++) {
        const item = items[i] as KubeObject;
        // The page is handed over: once an object is passed on, the page no
        // longer holds it, so it can be collected as soon as it is judged
        // rather than surviving, with the whole page, until the last one.
        items[i] = RELEASED;
        yield placement.place(item, info);
      }
      done += items.length;
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
async function* readNamedNamespaces(
  source: ClusterSource,
  info: KindInfo,
  names: readonly string[],
  placement: Placement,
  options: CollectOptions,
  { step, steps }: Step,
): AsyncGenerator<ListedObject> {
  for (const name of names) {
    const namespace = await source.getNamespace(name);
    if (!namespace) throw new AuditError("not-found", `namespace "${name}" not found`);
    yield placement.place(namespace, info);
  }
  options.onProgress?.({ kind: info.kind, done: names.length, step, steps });
}

/**
 * The collect step: every object of every kind of the plan, in plan order
 * (Namespaces first), page by page, each placed in its namespace. Nothing
 * is kept: each object is handed on as it is read.
 */
export async function* collect(
  source: ClusterSource,
  plan: AuditPlan,
  options: CollectOptions = {},
): AsyncGenerator<ListedObject> {
  const placement = new Placement(plan);
  const steps = plan.listing.list.length;
  let step = 0;
  for (const info of plan.listing.list) {
    step++;
    const at: Step = { step, steps };
    if (info.kind === "Namespace" && plan.namespaces) {
      yield* readNamedNamespaces(source, info, plan.namespaces, placement, options, at);
    } else yield* listKind(source, plan, info, placement, options, at);
  }
}
