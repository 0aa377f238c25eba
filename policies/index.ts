// The policy registry. Keep it sorted by id: the loader rejects any other order,
// so a merge can never silently drop or shadow a policy.
import type { PolicyModule } from "../src/engine/index.js";
import type { Registry } from "../src/policyset/index.js";
import privileged from "./privileged/index.js";
import serviceAccountToken from "./service-account-token/index.js";

export const registry: Registry = {
  modules: [privileged, serviceAccountToken] as PolicyModule[],
  directory: new URL("./", import.meta.url),
};
