export * from "./build.js";
export * from "./cel-policies.js";
export * from "./cluster-checks.js";
export * from "./declarations.js";
export * from "./errors.js";
export * from "./schema.js";
export * from "./shipped.js";
export * from "./workload-kinds.js";
