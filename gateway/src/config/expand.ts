// `${VAR}` in the YAML file's string values, so secrets and per-environment values stay out of the file.

type Env = Readonly<Record<string, string | undefined>>;

// `$${` is a literal `${`; `${NAME}` and `${NAME:-default}` are replaced; a `${` left open is an error.
const TOKEN = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

function expandString(value: string, env: Env, key: string, issues: string[]): string {
  return value.replace(TOKEN, (token, inner: string | undefined) => {
    if (token === '$${') return '${';
    const ref = inner === undefined ? null : REFERENCE.exec(inner);
    if (!ref) {
      issues.push(
        `${key}: ${inner === undefined ? 'unclosed ${' : `malformed \${${inner}}`} (write \${VAR} or \${VAR:-default}; $\${ is a literal \${)`,
      );
      return token;
    }
    const [, name, fallback] = ref as unknown as [string, string, string | undefined];
    const set = env[name];
    // As in the shell: the default stands in for an unset or empty variable.
    if (fallback !== undefined) return set ? set : fallback;
    if (set === undefined) {
      issues.push(`${key}: environment variable ${name} is not set (or give a default: \${${name}:-value})`);
      return token;
    }
    return set;
  });
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string value of a parsed YAML tree (keys are left
 * alone). Values stay strings, so `port: ${PORT}` is coerced by the schema as an env value is. Pushes one
 * issue per unset variable without a default, naming the key path.
 */
export function expandVariables(
  value: unknown,
  env: Env,
  issues: string[],
  path: readonly string[] = [],
): unknown {
  const key = path.length ? path.join('.') : '(root)';
  if (typeof value === 'string') return expandString(value, env, key, issues);
  if (Array.isArray(value)) return value.map((v, i) => expandVariables(v, env, issues, [...path, String(i)]));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, expandVariables(v, env, issues, [...path, k])]),
    );
  return value;
}
