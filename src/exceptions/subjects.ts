import { globMatcher, type UserInfo } from "../engine/index.js";

/** Users, groups and ServiceAccounts (`namespace/name`), exact names or globs. */
export interface Subjects {
  users: readonly string[];
  groups: readonly string[];
  serviceAccounts: readonly string[];
}

/**
 * Says which listed subject a request's user is (`user alice`, `group
 * oncall`, `serviceaccount flux-system/kustomize-controller`), or undefined
 * when it is none of them.
 */
export type SubjectMatch = (user: UserInfo | undefined) => string | undefined;

const SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:";

export function subjectMatcher(subjects: Subjects): SubjectMatch {
  const users = globMatcher(subjects.users);
  const groups = globMatcher(subjects.groups);
  const serviceAccounts = globMatcher(subjects.serviceAccounts);
  const none =
    subjects.users.length + subjects.groups.length + subjects.serviceAccounts.length === 0;
  return (user) => {
    if (none || !user) return undefined;
    const { username } = user;
    if (username) {
      if (username.startsWith(SERVICE_ACCOUNT_PREFIX)) {
        // system:serviceaccount:<namespace>:<name>; neither part may hold a colon.
        const account = username.slice(SERVICE_ACCOUNT_PREFIX.length).replace(":", "/");
        if (serviceAccounts(account)) return `serviceaccount ${account}`;
      }
      if (users(username)) return `user ${username}`;
    }
    const group = user.groups?.find((g) => groups(g));
    return group === undefined ? undefined : `group ${group}`;
  };
}
