export * from "./program.js";
export { parseCelQuantity, Quantity } from "./quantity.js";
export * from "./validations.js";
export { describeCel, toCel } from "./values.js";
