export * from "./exception.js";
export * from "./live.js";
export * from "./lookup.js";
export * from "./parse.js";
export * from "./schema.js";
export * from "./selector.js";
export * from "./subjects.js";
