// `kubectl auth can-i --list` for a ServiceAccount, as comparable rows, and
// what every authenticated account may do anyway.
import { expect } from "vitest";
import { must } from "./kube.js";

/** Every row of `kubectl auth can-i --list --as=USER -n NAMESPACE`, columns joined by " | ", sorted. */
export function canIList(user: string, namespace: string): string[] {
  const text = must(["auth", "can-i", "--list", `--as=${user}`, "-n", namespace]);
  const [header = "", ...rows] = text.trimEnd().split("\n");
  expect(header).toMatch(/^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs/);
  // Columns start where their titles do; the Resources column may be empty.
  const starts = ["Non-Resource URLs", "Resource Names", "Verbs"].map((t) => header.indexOf(t));
  const cut = (row: string) =>
    [0, ...starts].map((start, i) => row.slice(start, starts[i]).trim()).join(" | ");
  return rows.map(cut).sort();
}

/** What every authenticated ServiceAccount may do (discovery, self reviews). */
export const EVERYONE = [
  "selfsubjectreviews.authentication.k8s.io | [] | [] | [create]",
  "selfsubjectaccessreviews.authorization.k8s.io | [] | [] | [create]",
  "selfsubjectrulesreviews.authorization.k8s.io | [] | [] | [create]",
  "clustertrustbundles.certificates.k8s.io | [] | [] | [get list watch]",
  " | [/.well-known/openid-configuration/] | [] | [get]",
  " | [/.well-known/openid-configuration] | [] | [get]",
  " | [/api/*] | [] | [get]",
  " | [/api] | [] | [get]",
  " | [/apis/*] | [] | [get]",
  " | [/apis] | [] | [get]",
  " | [/healthz] | [] | [get]",
  " | [/healthz] | [] | [get]",
  " | [/livez] | [] | [get]",
  " | [/livez] | [] | [get]",
  " | [/openapi/*] | [] | [get]",
  " | [/openapi] | [] | [get]",
  " | [/openid/v1/jwks/] | [] | [get]",
  " | [/openid/v1/jwks] | [] | [get]",
  " | [/readyz] | [] | [get]",
  " | [/readyz] | [] | [get]",
  " | [/version/] | [] | [get]",
  " | [/version/] | [] | [get]",
  " | [/version] | [] | [get]",
  " | [/version] | [] | [get]",
];
