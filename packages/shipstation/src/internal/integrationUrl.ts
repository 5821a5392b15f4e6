/**
 * Integration URLs as ShipStation shows them and as posbridge configures them, compared after normalising: the
 * scheme and host in lower case (URL parsing does that), no default port, no user info, no query string or
 * fragment (a Custom Store URL may carry its credentials as SS-UserName/SS-Password), no trailing slash. The
 * path keeps its case: posbridge's store ids are case-sensitive. ShipStation's exact form of `integrationUrl` is
 * unconfirmed, so a value without a scheme is read as https.
 */

const parse = (raw: string): URL | undefined => {
  const trimmed = raw.trim()
  if (trimmed === "") return undefined
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`
  try {
    return new URL(withScheme)
  } catch {
    return undefined
  }
}

/** The comparable form of `raw`, or `undefined` when it is not a URL at all. */
export const normalise = (raw: string): string | undefined => {
  const url = parse(raw)
  if (url === undefined) return undefined
  const path = url.pathname.replace(/\/+$/, "")
  return `${url.protocol}//${url.host}${path}`
}

/** `raw` fit to show in a message: no user info and no query string, so no credentials. */
export const display = (raw: string): string => normalise(raw) ?? "(not a URL)"
