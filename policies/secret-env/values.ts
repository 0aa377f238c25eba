/*
 * Values that cannot be secrets whatever their variable is called. A name
 * that looks secret (DB_PASSWORD, API_KEY_URL) is only a hint; what is
 * written decides: a placeholder, a switch, a number, a path to a mounted
 * file or a URL without credentials hold nothing to hide. Every test reads
 * a bounded prefix with patterns anchored at the start, so each is linear.
 */

/** Longer values are never excused: real placeholders, paths and URLs are short. */
export const HARMLESS_LIMIT = 1024;

/** `<password>`, `${DB_PASS}`, `{{ .Values.token }}`, `%PASSWORD%`: to be filled in elsewhere. */
const TEMPLATE = /^(?:<[^<>]*>|\$\{[^{}]*\}|\{\{[\s\S]*\}\}|%[^%\s]+%)$/;

/** `INSERT_…`, `YOUR_TOKEN`, `changeme`, `REPLACE-ME`, `xxxx`, `***`, `TODO`. */
const PLACEHOLDER =
  /^(?:(?:insert|replace|enter|fill[-_ ]?in|your)[-_ ].*|(?:change|replace|set|fill)[-_ ]?(?:me|it)(?:[-_ ]?(?:here|now|later))?|placeholder|dummy|example|sample|redacted|todo|tbd|none|null|nil|unset|x+|\*+|\.+|-+)$/i;

/** On/off switches and numbers, durations or sizes (`true`, `3600`, `30s`, `512Mi`). */
const SETTING = /^(?:true|false|yes|no|on|off|enabled?|disabled?|\d+(?:\.\d+)?[a-z]{0,3})$/i;

/** A path to a mounted file or folder: `/mnt/secrets-store/db`, `./certs`, `~/.kube/config`. */
const PATH = /^(?:\/|\.{1,2}\/|~\/)\S*$/;

/** A URL; one with a password in it was caught as a credential before this is asked. */
const URL_VALUE = /^[a-z][a-z0-9+.-]*:\/\/\S*$/i;

/**
 * Why `value` is no secret, or undefined when it may be one. `name` is the
 * variable's (or flag's) name: a value that merely repeats it, such as
 * `INSERT_ETCD_INITIAL_CLUSTER_TOKEN` for ETCD_INITIAL_CLUSTER_TOKEN, is a
 * placeholder.
 */
export function harmlessValue(value: string, name: string): string | undefined {
  if (value.length > HARMLESS_LIMIT) return undefined;
  const trimmed = value.trim();
  if (TEMPLATE.test(trimmed) || PLACEHOLDER.test(trimmed)) return "a placeholder";
  if (name.length >= 4 && trimmed.toUpperCase().includes(name.toUpperCase())) {
    return "a placeholder";
  }
  if (SETTING.test(trimmed)) return "a setting";
  if (PATH.test(trimmed)) return "a path";
  if (URL_VALUE.test(trimmed)) return "a URL";
  return undefined;
}
