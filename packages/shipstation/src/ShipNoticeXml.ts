/**
 * Decoding of a `shipnotify` request into a core `ShipNotice`, from the body (`ShipNoticeBody`) and the query
 * parameters (`order_number`, `carrier`, `service`, `tracking_number`), the body winning where both say something.
 *
 * What is refused (400, a sentence naming the problem): what could never be right — not XML, a DOCTYPE or ENTITY
 * declaration (no entity expansion, no external entities), an undefined entity or an invalid character reference,
 * no `<ShipNotice>` root, a field over 4 KB (no real notice has one). Everything else is kept: what is doubtful
 * becomes a `ShipNotice.Problem` — `attention` when posbridge cannot tell what ShipStation meant (a single-valued
 * element repeated with different values, an invalid Quantity, no order named), `note` when a value was unusable
 * and left out (a bad ShippingCost or NotifyCustomer).
 *
 * Text is decoded here, not by the parser: the five predefined entities and decimal and hexadecimal character
 * references in element text; CDATA sections are taken literally.
 */
import { Decimal, Echo, type ShipNotice, StoreId } from "@posbridge/core"
import { Either, Schema } from "effect"
import { XMLParser, XMLValidator } from "fast-xml-parser"
import * as ShipNoticeBody from "./ShipNoticeBody.js"

export { BadShipNotice } from "./ShipNoticeBody.js"

type BadShipNotice = ShipNoticeBody.BadShipNotice
const bad = (sentence: string) => new ShipNoticeBody.BadShipNotice({ sentence })

const decodeStoreId = Schema.decodeUnknownEither(StoreId.StoreId)

/** Longest accepted value of one field, in characters. */
export const maxFieldLength = 4096

const parser = new XMLParser({
  ignoreAttributes: true,
  // Everything stays a string: "00123" is an order number, not the number 123.
  parseTagValue: false,
  parseAttributeValue: false,
  // Whitespace is trimmed per field, after text and CDATA are put together.
  trimValues: false,
  processEntities: false,
  htmlEntities: false,
  cdataPropName: "#cdata",
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (_name, jpath) => jpath === "ShipNotice.Items.Item"
})

type Fields = Record<string, unknown>

const predefined: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }

/** XML 1.0's Char production: what a character reference may name. */
const isXmlChar = (c: number) =>
  c === 0x9 ||
  c === 0xa ||
  c === 0xd ||
  (c >= 0x20 && c <= 0xd7ff) ||
  (c >= 0xe000 && c <= 0xfffd) ||
  (c >= 0x10000 && c <= 0x10ffff)

/** Collects what is doubtful while reading; the first thing that cannot be accepted at all is kept in `refused`. */
class Reader {
  readonly problems: Array<ShipNotice.Problem> = []
  refused: BadShipNotice | undefined

  attention(message: string) {
    this.problems.push({ severity: "attention", message })
  }

  note(message: string) {
    this.problems.push({ severity: "note", message })
  }

  refuse(sentence: string) {
    this.refused ??= bad(sentence)
  }

  private decode(text: string): string {
    return text.replace(/&(#[0-9]{1,8}|#x[0-9a-fA-F]{1,7}|[A-Za-z_][\w.-]{0,40});/g, (whole, name: string) => {
      if (name.startsWith("#")) {
        const code = name[1] === "x" ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10)
        if (isXmlChar(code)) return String.fromCodePoint(code)
        this.refuse(
          `The ship notice has the character reference ${Echo.safe(whole)}, which is not a legal XML character.`
        )
        return ""
      }
      const known = predefined[name]
      if (known !== undefined) return known
      this.refuse(
        `The ship notice uses the undefined entity ${Echo.safe(whole)}; only &amp; &lt; &gt; &quot; &apos; and character references are accepted.`
      )
      return ""
    })
  }

  /** One element's text: entity-decoded text plus literal CDATA; undefined for an element with children. */
  private textOf(node: unknown): string | undefined {
    if (typeof node === "string") return this.decode(node)
    if (typeof node !== "object" || node === null || Array.isArray(node)) return undefined
    const { "#text": text, "#cdata": cdata, ...children } = node as Fields
    if (Object.keys(children).length > 0) return undefined
    if (Array.isArray(text)) return undefined
    const cdataText = Array.isArray(cdata) ? cdata.join("") : typeof cdata === "string" ? cdata : ""
    return (typeof text === "string" ? this.decode(text) : "") + cdataText
  }

  private checked(tag: string, value: string | undefined): string | undefined {
    if (value === undefined) return undefined
    if (value.length > maxFieldLength) {
      this.refuse(
        `The ship notice's ${tag} is ${value.length} characters long; no field of a real notice is over ${maxFieldLength}.`
      )
      return undefined
    }
    const trimmed = value.trim()
    return trimmed === "" ? undefined : trimmed
  }

  /** A single-valued element of `node`; repeated with different values, all are kept and it needs attention. */
  text(node: Fields | undefined, key: string): string | undefined {
    const raw = node?.[key]
    if (!Array.isArray(raw)) return this.checked(`<${key}>`, this.textOf(raw))
    const values = raw.map((v) => this.checked(`<${key}>`, this.textOf(v))).filter((v) => v !== undefined)
    const distinct = [...new Set(values)]
    if (distinct.length > 1) {
      this.attention(
        `The notice has ${raw.length} <${key}> elements (${distinct.map((v) => Echo.quoted(v)).join(", ")}); ` +
          "which one ShipStation meant is not clear, so nothing is written back until an operator decides."
      )
    }
    return distinct.length === 0 ? undefined : distinct.join(" | ")
  }

  param(source: URLSearchParams | undefined, name: string): string | undefined {
    const raw = source?.get(name)
    return raw === null || raw === undefined ? undefined : this.checked(`${name} parameter`, raw)
  }
}

const obj = (v: unknown): Fields | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Fields) : undefined

const bool = (v: string): boolean | undefined => {
  const s = v.toLowerCase()
  return s === "true" || s === "1" || s === "yes" ? true : s === "false" || s === "0" || s === "no" ? false : undefined
}

const parseXml = (xml: string): Either.Either<Fields, BadShipNotice> => {
  if (/<!(DOCTYPE|ENTITY)/i.test(xml.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, ""))) {
    return Either.left(bad("The ship notice contains a DOCTYPE or ENTITY declaration, which is not accepted."))
  }
  const valid = XMLValidator.validate(xml)
  if (valid !== true) {
    return Either.left(
      bad(`The ship notice is not well-formed XML (line ${valid.err.line}: ${Echo.safe(valid.err.msg, 120)}).`)
    )
  }
  let parsed: Fields
  try {
    parsed = parser.parse(xml) as Fields
  } catch (e) {
    return Either.left(bad(`The ship notice XML could not be read (${Echo.safe(String(e), 120)}).`))
  }
  // An empty `<ShipNotice/>` parses as "".
  const value = parsed.ShipNotice
  const root = typeof value === "string" && value.trim() === "" ? {} : obj(value)
  return root === undefined ? Either.left(bad("The XML body has no <ShipNotice> root element.")) : Either.right(root)
}

const items = (r: Reader, root: Fields): Array<ShipNotice.ShipNoticeItem> =>
  (Array.isArray(obj(root.Items)?.Item) ? (obj(root.Items)!.Item as Array<unknown>) : []).flatMap((raw, i) => {
    const node = obj(raw)
    if (node === undefined) return []
    const item: { -readonly [K in keyof ShipNotice.ShipNoticeItem]: ShipNotice.ShipNoticeItem[K] } = {}
    const lineItemId = r.text(node, "LineItemID")
    const sku = r.text(node, "SKU")
    const name = r.text(node, "Name")
    const quantity = r.text(node, "Quantity")
    if (lineItemId !== undefined) item.lineItemId = lineItemId
    if (sku !== undefined) item.sku = sku
    if (name !== undefined) item.name = name
    if (quantity !== undefined) {
      if (/^\d{1,9}$/.test(quantity)) item.quantity = Number(quantity)
      else r.attention(`Item ${i + 1} of the notice has an invalid Quantity ${Echo.quoted(quantity)}.`)
    }
    return [item]
  })

const recipientFields = [
  ["name", "Name"],
  ["company", "Company"],
  ["address1", "Address1"],
  ["address2", "Address2"],
  ["city", "City"],
  ["state", "State"],
  ["postalCode", "PostalCode"],
  ["country", "Country"]
] as const

/** The notice named by the request, or the sentence that refuses it. */
export const decode = (
  storeId: string,
  body: string | Uint8Array,
  query: URLSearchParams,
  contentType?: string
): Either.Either<ShipNotice.ShipNotice, BadShipNotice> =>
  Either.gen(function* () {
    const sid = yield* decodeStoreId(storeId).pipe(Either.mapLeft(() => bad("The store id in the URL is not valid.")))
    const text = typeof body === "string" ? body : yield* ShipNoticeBody.text(body, contentType)
    const { xml, form } = yield* ShipNoticeBody.split(text)
    const root = xml === undefined ? undefined : yield* parseXml(xml)
    const r = new Reader()
    const param = (name: string) => r.param(form, name) ?? r.param(query, name)
    const orderId = r.text(root, "OrderID")
    const orderNumber = r.text(root, "OrderNumber") ?? param("order_number")
    const notice: { -readonly [K in keyof ShipNotice.ShipNotice]: ShipNotice.ShipNotice[K] } = {
      storeId: sid,
      orderNumber: orderNumber ?? orderId ?? "",
      carrier: r.text(root, "Carrier") ?? param("carrier") ?? "",
      trackingNumber: r.text(root, "TrackingNumber") ?? param("tracking_number") ?? "",
      items: root === undefined ? [] : items(r, root)
    }
    if (orderNumber === undefined && orderId === undefined) {
      r.attention("The notice names no order (no OrderID or OrderNumber in the body, no order_number parameter).")
    }
    const optional = {
      orderId,
      service: r.text(root, "Service") ?? param("service"),
      shipDate: r.text(root, "ShipDate"),
      labelCreateDate: r.text(root, "LabelCreateDate"),
      customerCode: r.text(root, "CustomerCode"),
      notesToCustomer: r.text(root, "NotesToCustomer"),
      internalNotes: r.text(root, "InternalNotes")
    }
    for (const [key, value] of Object.entries(optional)) {
      if (value !== undefined) notice[key as keyof typeof optional] = value
    }
    const cost = r.text(root, "ShippingCost")
    if (cost !== undefined) {
      const parsed = Decimal.parse(cost)
      if (parsed !== undefined) notice.shippingCost = parsed
      else r.note(`ShippingCost ${Echo.quoted(cost)} is not an amount; it was left out.`)
    }
    const notify = r.text(root, "NotifyCustomer")
    if (notify !== undefined) {
      const parsed = bool(notify)
      if (parsed !== undefined) notice.notifyCustomer = parsed
      else r.note(`NotifyCustomer ${Echo.quoted(notify)} is neither true nor false; it was left out.`)
    }
    const recipientNode = obj(root?.Recipient)
    if (recipientNode !== undefined) {
      const recipient: Record<string, string> = {}
      for (const [key, tag] of recipientFields) {
        const v = r.text(recipientNode, tag)
        if (v !== undefined) recipient[key] = v
      }
      notice.recipient = recipient
    }
    if (r.refused !== undefined) return yield* Either.left(r.refused)
    if (r.problems.length > 0) notice.problems = r.problems
    return notice
  })
