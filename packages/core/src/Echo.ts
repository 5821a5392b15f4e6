/**
 * A value that came from a request, made safe to repeat in an answer, an error or a log line: control
 * characters are escaped (so a line break in an order number cannot start a forged log line, and a NUL cannot
 * cut a message short) and anything past `max` characters is cut, saying how much was left out.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const control = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

const escapeOne = (c: string): string => {
  switch (c) {
    case "\n":
      return "\\n"
    case "\r":
      return "\\r"
    case "\t":
      return "\\t"
    default:
      return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`
  }
}

/** Escaped and cut to `max` characters of the original (default 40). */
export const safe = (value: string, max = 40): string => {
  const cut = value.length > max ? value.slice(0, max) : value
  const escaped = cut.replace(control, escapeOne)
  return value.length > max ? `${escaped}… (${value.length - max} more characters)` : escaped
}

/** `safe`, in double quotes: for a value quoted inside a sentence. */
export const quoted = (value: string, max = 40): string => `"${safe(value, max)}"`
