// The helper kit: what policies build their checks and mutations from. The
// engine's core (src/engine/index.ts) never imports it; policies import both.
export * from "./dashboard.js";
export * from "./images.js";
export * from "./namespaces.js";
export * from "./patch.js";
export * from "./patch-sequence.js";
export * from "./pod-security.js";
export * from "./profiles.js";
export * from "./quantity.js";
export * from "./replicas.js";
export * from "./security.js";
