/**
 * Generators of what an attacker (or a broken client) sends the ShipStation endpoint: ship-notice bodies built
 * from XML pieces that matter (entities, character references, CDATA, DOCTYPE, repeated and oversized elements,
 * control characters, encodings), query strings and Authorization headers. Shared by the property tests and,
 * through `@posbridge/shipstation/testing`, by the script that sends a million of them over HTTP.
 */
import { FastCheck as fc } from "effect"

const tags = [
  "ShipNotice",
  "OrderID",
  "OrderNumber",
  "Carrier",
  "Service",
  "TrackingNumber",
  "ShipDate",
  "LabelCreateDate",
  "ShippingCost",
  "NotifyCustomer",
  "CustomerCode",
  "NotesToCustomer",
  "Recipient",
  "Name",
  "Items",
  "Item",
  "SKU",
  "Quantity",
  "LineItemID"
]

const nasty = fc.constantFrom(
  "&amp;",
  "&lt;",
  "&#169;",
  "&#x1F600;",
  "&#0;",
  "&#xD800;",
  "&#99999999;",
  "&nbsp;",
  "&e;",
  "&",
  "<![CDATA[x]]>",
  "<![CDATA[",
  "]]>",
  "\u0000",
  "\r\n",
  "\u2028",
  "<!DOCTYPE x>",
  '<!ENTITY e "x">',
  "<?xml version='1.0'?>",
  "<!-- c -->",
  "\uFEFF",
  "\uD800",
  "'",
  '"',
  "%0A",
  "9".repeat(5000)
)

const text: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
  { weight: 3, arbitrary: nasty },
  { weight: 1, arbitrary: fc.constantFrom("1001", "101", "1Z999", "UPS", "Other", "2", "true", "7.50") }
)

const element: fc.Arbitrary<string> = fc.letrec<{ el: string }>((tie) => ({
  el: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc
      .tuple(fc.constantFrom(...tags), fc.array(text, { maxLength: 3 }))
      .map(([t, xs]) => `<${t}>${xs.join("")}</${t}>`),
    fc
      .tuple(fc.constantFrom(...tags), fc.array(tie("el"), { maxLength: 4 }))
      .map(([t, xs]) => `<${t}>${xs.join("")}</${t}>`),
    text
  )
})).el

/** A ship-notice body as text: mostly a `<ShipNotice>` around generated children, sometimes anything at all. */
export const body: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.constantFrom("", '<?xml version="1.0" encoding="utf-8"?>', '<?xml version="1.0" encoding="ISO-8859-1"?>'),
        fc.array(element, { maxLength: 8 })
      )
      .map(([declaration, children]) => `${declaration}<ShipNotice>${children.join("")}</ShipNotice>`)
  },
  { weight: 1, arbitrary: element },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.tuple(fc.constantFrom("xml", "order_number", "carrier", "a"), text), { maxLength: 4 })
      .map((pairs) => new URLSearchParams(pairs).toString())
  },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) }
)

/** Raw bytes: a body in some encoding, or bytes that are not text in any. */
export const bodyBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  body.map((s) => new TextEncoder().encode(s)),
  fc
    .tuple(fc.constantFrom("x-klingon", "utf-16", "UTF-8", "latin1", "", "\u0000"), body)
    .map(([enc, s]) => new TextEncoder().encode(`<?xml version="1.0" encoding="${enc}"?>${s}`)),
  fc.uint8Array({ maxLength: 300 }),
  fc
    .tuple(fc.constantFrom([0xff, 0xfe], [0xfe, 0xff], [0xef, 0xbb, 0xbf]), fc.uint8Array({ maxLength: 200 }))
    .map(([bom, rest]) => Uint8Array.from([...bom, ...rest]))
)

const paramValue = fc.oneof(
  text,
  fc.constantFrom("05/01/2024 09:00", "05/01/2024+09:00", "5/1/2024 9:00 AM", "2024-05-01", "13/45/2024 25:99", "")
)

/** A query string as ShipStation (or anyone) might send it. */
export const query: fc.Arbitrary<URLSearchParams> = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        "action",
        "start_date",
        "end_date",
        "page",
        "order_number",
        "carrier",
        "tracking_number",
        "service",
        "SS-UserName",
        "SS-Password",
        "x"
      ),
      paramValue
    ),
    { maxLength: 7 }
  )
  .map((pairs) => new URLSearchParams(pairs))

/** An Authorization header, from right to absurd. */
export const authorization: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 60 }),
  fc.string({ unit: "binary", maxLength: 40 }).map((s) => `Basic ${s}`),
  fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })).map(([u, p]) => {
    const bytes = new TextEncoder().encode(`${u}:${p}`)
    return `Basic ${btoa(String.fromCharCode(...bytes))}`
  }),
  fc.constantFrom("Basic", "Basic =", "Basic ====", "basic ZGVtbzpkZW1v", "Bearer x", "Basic ZGVtbw==")
)

/** A sentence fit to send back or log: one line, no control characters, of a sane length. */
export const isCleanSentence = (s: string, max = 600) =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  s.length > 0 && s.length <= max && !/[\u0000-\u001f\u007f]/.test(s)
