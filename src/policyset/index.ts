export * from "./build.js";
export * from "./cel-policies.js";
export * from "./declarations.js";
export * from "./errors.js";
export * from "./schema.js";
