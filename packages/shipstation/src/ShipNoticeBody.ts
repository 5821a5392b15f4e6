/**
 * A `shipnotify` body as ShipStation may send it. Its content type is unconfirmed, so the raw bytes are read
 * whatever the header says and turned into text by what the body itself declares: a byte-order mark first, then
 * the XML declaration's `encoding`, then the Content-Type's `charset`, else UTF-8. Any encoding the platform's
 * `TextDecoder` knows is read; an unknown one is refused naming it (nothing could make that body readable).
 * The text is then XML, a form body (its fields act like query parameters; a field holding XML is the notice),
 * or nothing at all (the query parameters alone).
 */
import { Echo } from "@posbridge/core"
import { Data, Either } from "effect"

export class BadShipNotice extends Data.TaggedError("BadShipNotice")<{ readonly sentence: string }> {
  override get message() {
    return this.sentence
  }
}

const boms: ReadonlyArray<readonly [ReadonlyArray<number>, string]> = [
  [[0xef, 0xbb, 0xbf], "utf-8"],
  [[0xff, 0xfe], "utf-16le"],
  [[0xfe, 0xff], "utf-16be"]
]

const startsWith = (bytes: Uint8Array, prefix: ReadonlyArray<number>) => prefix.every((b, i) => bytes[i] === b)

/** The `encoding` of an XML declaration at the very start, read as ASCII (every encoding it may name agrees on it). */
const declaredEncoding = (bytes: Uint8Array): string | undefined => {
  const head = String.fromCharCode(...bytes.subarray(0, 200))
  return /^\s*<\?xml\s[^>]*?encoding\s*=\s*["']([^"']*)["']/.exec(head)?.[1]
}

const charset = (contentType: string | undefined): string | undefined =>
  contentType === undefined ? undefined : /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType)?.[1]

const decoderFor = (
  label: string,
  source: string
): Either.Either<{ readonly decode: (bytes: Uint8Array) => string }, BadShipNotice> => {
  try {
    return Either.right(new TextDecoder(label))
  } catch {
    return Either.left(
      new BadShipNotice({
        sentence: `The ship notice's ${source} names the encoding ${Echo.quoted(label)}, which posbridge cannot read; send UTF-8.`
      })
    )
  }
}

/** The body's text, decoded the way it says it is encoded. */
export const text = (bytes: Uint8Array, contentType?: string): Either.Either<string, BadShipNotice> => {
  for (const [bom, label] of boms) {
    if (startsWith(bytes, bom)) return Either.map(decoderFor(label, "byte-order mark"), (d) => d.decode(bytes))
  }
  const declared = declaredEncoding(bytes)
  if (declared !== undefined) {
    return Either.map(decoderFor(declared, "XML declaration"), (d) => d.decode(bytes))
  }
  const fromHeader = charset(contentType)
  if (fromHeader !== undefined) return Either.map(decoderFor(fromHeader, "Content-Type"), (d) => d.decode(bytes))
  return Either.right(new TextDecoder("utf-8").decode(bytes))
}

const looksLikeXml = (s: string) => s.startsWith("<")

/**
 * Splits the text into XML (if any) and extra parameters: a form body's fields act like query parameters,
 * and a field whose value is XML is the notice itself.
 */
export const split = (
  body: string
): Either.Either<{ readonly xml: string | undefined; readonly form: URLSearchParams | undefined }, BadShipNotice> => {
  const trimmed = body.replace(/^\uFEFF/, "").trim()
  if (trimmed === "") return Either.right({ xml: undefined, form: undefined })
  if (looksLikeXml(trimmed)) return Either.right({ xml: trimmed, form: undefined })
  if (/^[^=&\s<>]+=/.test(trimmed)) {
    const form = new URLSearchParams(trimmed)
    let xml: string | undefined
    for (const value of form.values()) {
      if (looksLikeXml(value.trim())) xml = value.trim()
    }
    return Either.right({ xml, form })
  }
  return Either.left(
    new BadShipNotice({ sentence: "The ship notice body is neither XML nor form data; send a <ShipNotice> document." })
  )
}
