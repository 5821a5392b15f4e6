/**
 * Small JSON helpers shared by replay, recording and redaction.
 * @internal
 */

/** Renders a path like `exchanges[2].response.status` from property keys and indices. */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string => {
  let out = ""
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`
    else if (typeof key === "string" && /^[A-Za-z_$][\w$]*$/.test(key)) out += out === "" ? key : `.${key}`
    else out += `[${JSON.stringify(String(key))}]`
  }
  return out
}

export const isPlainObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** Short, single-line rendering of a value for diff messages. */
export const show = (u: unknown, max = 200): string => {
  const text = u === undefined ? "(absent)" : JSON.stringify(u)
  return text.length > max ? `${text.slice(0, max)}…` : text
}

export const tryParseJson = (text: string): { readonly ok: true; readonly value: unknown } | { readonly ok: false } => {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}
