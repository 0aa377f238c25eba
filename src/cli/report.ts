import type { ResourceRef, Verdict } from "../engine/index.js";
import type { VapDecision } from "../vap/index.js";

/** Where an evaluated object came from. */
export interface ResultSource {
  file: string;
  /** 1-based document index in the file. */
  document: number;
  /** Index in the `items` of a List document. */
  item: number | undefined;
  /** The chart template, for `helm template` output. */
  template: string | undefined;
}

/** One object's verdict, as `tollgate test` reports it. */
export interface ResourceResult {
  resource: ResourceRef;
  source: ResultSource;
  verdict: Verdict;
  /** Failed validations of the ValidatingAdmissionPolicies given with the inputs. */
  admissionPolicies?: VapDecision[];
  /**
   * The 1-based line of a field of the object in its file, when it can be
   * found (`spec.containers[0].image`); formats that point at lines use it.
   */
  lineOf?: ((fieldPath: string) => number | undefined) | undefined;
}

/** Admitted by Tollgate and by every ValidatingAdmissionPolicy binding with the Deny action. */
export function isAllowed(result: ResourceResult): boolean {
  return result.verdict.allowed && !vapHas(result, "Deny");
}

function vapHas(result: ResourceResult, action: VapDecision["actions"][number]): boolean {
  return (result.admissionPolicies ?? []).some((d) => d.actions.includes(action));
}

/** Admitted, but with something to say: a warn violation, a warning, or a VAP warning. */
export function isWarned(result: ResourceResult): boolean {
  const { verdict } = result;
  return (
    isAllowed(result) &&
    (verdict.warnings.length > 0 ||
      verdict.violations.some((v) => v.action === "warn") ||
      vapHas(result, "Warn"))
  );
}

export interface Summary {
  resources: number;
  denied: number;
  warned: number;
  patched: number;
}

/** Counts results as they stream past, so no report has to keep them. */
export class Tally {
  readonly summary: Summary = { resources: 0, denied: 0, warned: 0, patched: 0 };

  add(result: ResourceResult): void {
    const s = this.summary;
    s.resources++;
    if (!isAllowed(result)) s.denied++;
    else if (isWarned(result)) s.warned++;
    if (result.verdict.patch.length > 0) s.patched++;
  }
}

/** `examples/web.yaml, document 2, items[0], template chart/templates/web.yaml` */
export function describeSource(source: ResultSource): string {
  let text = `${source.file}, document ${source.document}`;
  if (source.item !== undefined) text += `, items[${source.item}]`;
  if (source.template !== undefined) text += `, template ${source.template}`;
  return text;
}
