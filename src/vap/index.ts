export * from "./evaluate.js";
export * from "./load.js";
export * from "./match.js";
export * from "./types.js";
