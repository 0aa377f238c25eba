export * from "./build.js";
export * from "./declarations.js";
export * from "./errors.js";
export * from "./schema.js";
