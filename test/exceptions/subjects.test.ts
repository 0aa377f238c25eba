import { describe, expect, it } from "vitest";
import { subjectMatcher } from "../../src/exceptions/index.js";

describe("subjectMatcher", () => {
  const match = subjectMatcher({
    users: ["alice@contoso.com", "oncall-*"],
    groups: ["tollgate:break-glass"],
    serviceAccounts: ["flux-system/*"],
  });

  it("says which listed user, group or ServiceAccount a request comes from", () => {
    expect(match({ username: "alice@contoso.com" })).toBe("user alice@contoso.com");
    expect(match({ username: "oncall-bob" })).toBe("user oncall-bob");
    expect(match({ username: "carol", groups: ["devs", "tollgate:break-glass"] })).toBe(
      "group tollgate:break-glass",
    );
    expect(match({ username: "system:serviceaccount:flux-system:kustomize-controller" })).toBe(
      "serviceaccount flux-system/kustomize-controller",
    );
  });

  it("matches nobody else", () => {
    expect(match({ username: "mallory", groups: ["system:authenticated"] })).toBeUndefined();
    expect(match({ username: "system:serviceaccount:apps:flux-system" })).toBeUndefined();
    expect(match(undefined)).toBeUndefined();
    expect(subjectMatcher({ users: [], groups: [], serviceAccounts: [] })({ username: "a" })).toBe(
      undefined,
    );
  });
});
