export * from "./program.js";
export { parseCelQuantity, Quantity } from "./quantity.js";
export { describeCel, toCel } from "./values.js";
