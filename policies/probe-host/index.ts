import { z } from "zod";
import { containersOf, definePolicy, type Finding, getAt } from "../../src/engine/index.js";

/** Every handler the kubelet itself connects to, as a path inside the container. */
const HANDLERS = [
  ["livenessProbe"],
  ["readinessProbe"],
  ["startupProbe"],
  ["lifecycle", "postStart"],
  ["lifecycle", "preStop"],
] as const;

const ACTIONS = ["httpGet", "tcpSocket"] as const;

/** Each handler's actions with their host fields' paths, built once: the check runs per container per request. */
const HOST_FIELDS = HANDLERS.map((handler) => ({
  handler,
  actions: ACTIONS.map((action) => ({ action, path: [...handler, action, "host"] })),
}));

export default definePolicy({
  id: "probe-host",
  scope: "pod",
  parameters: z.object({}).strict(),
  validate(pod) {
    const findings: Finding[] = [];
    for (const c of containersOf(pod)) {
      for (const { handler, actions } of HOST_FIELDS) {
        // Most containers have few of these handlers: one walk finds it missing for every action.
        const found = getAt(c.container, handler);
        if (found === null || typeof found !== "object") continue;
        for (const { action, path } of actions) {
          const handled = (found as Record<string, unknown>)[action];
          if (handled === null || typeof handled !== "object") continue;
          const host = (handled as Record<string, unknown>).host;
          if (host === undefined || host === null || host === "") continue;
          findings.push({
            message: `points ${handler.join(".")}.${action} at host ${JSON.stringify(host)}, so the kubelet connects there from the node's network; remove ${action}.host so the check targets the pod's own IP`,
            path: [...c.path, ...path],
            container: c,
          });
        }
      }
    }
    return findings;
  },
});
