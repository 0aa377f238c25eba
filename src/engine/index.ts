// The engine's core: the types, compiling a policy set, evaluating a request
// against it, and finding the pod spec in a workload. The helpers policies
// build checks from are the kit (src/engine/kit/index.ts).
export * from "./checklist.js";
export * from "./clone.js";
export * from "./cluster-check.js";
export * from "./compile.js";
export * from "./controllers.js";
export * from "./equal.js";
export * from "./evaluate.js";
export * from "./exceptions.js";
export * from "./image-ref.js";
export type * from "./kube.js";
export * from "./nulls.js";
export * from "./paths.js";
export * from "./policy.js";
export * from "./request.js";
export * from "./result.js";
export * from "./selectors.js";
export * from "./types.js";
export * from "./values.js";
export * from "./workloads.js";
