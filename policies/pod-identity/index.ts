import { z } from "zod";
import { definePolicy, type Finding, groupVersionKindOf } from "../../src/engine/index.js";

const LEGACY_GROUP = "aadpodidentity.k8s.io";
const LEGACY_KINDS = new Set(["AzureIdentity", "AzureIdentityBinding"]);
const LEGACY_LABEL = "aadpodidbinding";

const MIGRATE =
  'use Azure Workload Identity instead: label the pods azure.workload.identity/use: "true", ' +
  "run them under a service account annotated azure.workload.identity/client-id, and add a " +
  "federated credential for that service account to the Azure identity";

export default definePolicy({
  id: "pod-identity",
  scope: "object",
  parameters: z.object({}).strict(),
  validate({ object, pod }) {
    const { group, kind } = groupVersionKindOf(object);
    if (group === LEGACY_GROUP && LEGACY_KINDS.has(kind)) {
      return [
        {
          message: `belongs to the deprecated AAD Pod Identity; ${MIGRATE}, then delete this ${kind}`,
          path: ["kind"],
        },
      ];
    }
    const labels = pod?.metadata.labels;
    if (
      !pod ||
      labels === null ||
      typeof labels !== "object" ||
      !Object.hasOwn(labels, LEGACY_LABEL)
    ) {
      return [];
    }
    const finding: Finding = {
      message: `carries the label ${LEGACY_LABEL} of the deprecated AAD Pod Identity; ${MIGRATE}, then remove the label`,
      path: [...pod.metadataPath, "labels", LEGACY_LABEL],
    };
    return [finding];
  },
});
