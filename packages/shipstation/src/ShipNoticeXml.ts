/**
 * Decoding of a `shipnotify` request into a core `ShipNotice`. ShipStation's content type is unconfirmed,
 * so the raw body is read whatever the header says: XML, a form-encoded body (its fields are treated like
 * query parameters; a field holding XML is the notice), or nothing at all (the query parameters alone).
 *
 * Hardening: a DOCTYPE or ENTITY declaration is refused before parsing (no entity expansion, no external
 * entities), only the five predefined XML entities and character references are decoded, and the caller
 * limits the body size before it gets here.
 */

import { Decimal, type ShipNotice, StoreId } from "@posbridge/core"
import { Data, Either, Schema } from "effect"
import { XMLParser, XMLValidator } from "fast-xml-parser"

export class BadShipNotice extends Data.TaggedError("BadShipNotice")<{ readonly sentence: string }> {
  override get message() {
    return this.sentence
  }
}

const parser = new XMLParser({
  ignoreAttributes: true,
  // Everything stays a string: "00123" is an order number, not the number 123.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (_name, jpath) => jpath === "ShipNotice.Items.Item"
})

const withoutCdata = (xml: string) => xml.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, "")

type Fields = Record<string, unknown>

const str = (node: Fields | undefined, key: string): string | undefined => {
  const v = node?.[key]
  if (typeof v === "string") return v.trim() === "" ? undefined : v.trim()
  if (typeof v === "number" || typeof v === "boolean") return String(v)
  return undefined
}

const obj = (v: unknown): Fields | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Fields) : undefined

const bool = (v: string | undefined): boolean | undefined => {
  if (v === undefined) return undefined
  const s = v.toLowerCase()
  return s === "true" || s === "1" || s === "yes" ? true : s === "false" || s === "0" || s === "no" ? false : undefined
}

const parseXml = (xml: string): Either.Either<Fields | undefined, BadShipNotice> => {
  if (/<!(DOCTYPE|ENTITY)/i.test(withoutCdata(xml))) {
    return Either.left(
      new BadShipNotice({
        sentence: "The ship notice contains a DOCTYPE or ENTITY declaration, which is not accepted."
      })
    )
  }
  const valid = XMLValidator.validate(xml)
  if (valid !== true) {
    return Either.left(
      new BadShipNotice({
        sentence: `The ship notice is not well-formed XML (line ${valid.err.line}: ${valid.err.msg}).`
      })
    )
  }
  let parsed: Fields
  try {
    parsed = parser.parse(xml) as Fields
  } catch (e) {
    return Either.left(new BadShipNotice({ sentence: `The ship notice XML could not be read (${String(e)}).` }))
  }
  const root = obj(parsed.ShipNotice)
  if (root === undefined) {
    return Either.left(new BadShipNotice({ sentence: "The XML body has no <ShipNotice> root element." }))
  }
  return Either.right(root)
}

const looksLikeXml = (s: string) => s.startsWith("<")

/**
 * Splits the body into XML (if any) and extra parameters: a form body's fields act like query parameters,
 * and a field whose value is XML is the notice itself.
 */
const readBody = (
  body: string
): Either.Either<{ xml: string | undefined; form: URLSearchParams | undefined }, BadShipNotice> => {
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

const decodeItems = (root: Fields): Either.Either<Array<ShipNotice.ShipNoticeItem>, BadShipNotice> => {
  const items = obj(root.Items)?.Item
  const list = Array.isArray(items) ? items : []
  const out: Array<ShipNotice.ShipNoticeItem> = []
  for (const [i, raw] of list.entries()) {
    const node = obj(raw)
    if (node === undefined) continue
    const item: { -readonly [K in keyof ShipNotice.ShipNoticeItem]: ShipNotice.ShipNoticeItem[K] } = {}
    const lineItemId = str(node, "LineItemID")
    const sku = str(node, "SKU")
    const name = str(node, "Name")
    const quantity = str(node, "Quantity")
    if (lineItemId !== undefined) item.lineItemId = lineItemId
    if (sku !== undefined) item.sku = sku
    if (name !== undefined) item.name = name
    if (quantity !== undefined) {
      if (!/^\d{1,9}$/.test(quantity)) {
        return Either.left(
          new BadShipNotice({
            sentence: `Item ${i + 1} of the ship notice has an invalid Quantity "${quantity.slice(0, 20)}".`
          })
        )
      }
      item.quantity = Number(quantity)
    }
    out.push(item)
  }
  return Either.right(out)
}

const decodeStoreId = Schema.decodeUnknownEither(StoreId.StoreId)

/**
 * Builds the notice from the body and the query parameters (`order_number`, `carrier`, `service`,
 * `tracking_number`), the body winning where both say something.
 */
export const decode = (
  storeId: string,
  body: string,
  query: URLSearchParams
): Either.Either<ShipNotice.ShipNotice, BadShipNotice> =>
  Either.gen(function* () {
    const sid = yield* decodeStoreId(storeId).pipe(
      Either.mapLeft(() => new BadShipNotice({ sentence: "The store id in the URL is not valid." }))
    )
    const { xml, form } = yield* readBody(body)
    const root = xml === undefined ? undefined : yield* parseXml(xml)
    const param = (name: string): string | undefined => {
      const v = (form?.get(name) ?? query.get(name))?.trim()
      return v === undefined || v === "" ? undefined : v
    }
    const orderId = str(root, "OrderID")
    const orderNumber = str(root, "OrderNumber") ?? param("order_number")
    if (orderNumber === undefined && orderId === undefined) {
      return yield* Either.left(
        new BadShipNotice({
          sentence: "The ship notice names no order: expected OrderID or OrderNumber in the body, or order_number."
        })
      )
    }
    const carrier = str(root, "Carrier") ?? param("carrier") ?? ""
    const trackingNumber = str(root, "TrackingNumber") ?? param("tracking_number") ?? ""
    const items = root === undefined ? [] : yield* decodeItems(root)
    const notice: { -readonly [K in keyof ShipNotice.ShipNotice]: ShipNotice.ShipNotice[K] } = {
      storeId: sid,
      orderNumber: orderNumber ?? orderId ?? "",
      carrier,
      trackingNumber,
      items
    }
    if (orderId !== undefined) notice.orderId = orderId
    const service = str(root, "Service") ?? param("service")
    if (service !== undefined) notice.service = service
    const shipDate = str(root, "ShipDate")
    if (shipDate !== undefined) notice.shipDate = shipDate
    const labelCreateDate = str(root, "LabelCreateDate")
    if (labelCreateDate !== undefined) notice.labelCreateDate = labelCreateDate
    const cost = Decimal.parse(str(root, "ShippingCost"))
    if (cost !== undefined) notice.shippingCost = cost
    const notify = bool(str(root, "NotifyCustomer"))
    if (notify !== undefined) notice.notifyCustomer = notify
    const customerCode = str(root, "CustomerCode")
    if (customerCode !== undefined) notice.customerCode = customerCode
    const notesToCustomer = str(root, "NotesToCustomer")
    if (notesToCustomer !== undefined) notice.notesToCustomer = notesToCustomer
    const internalNotes = str(root, "InternalNotes")
    if (internalNotes !== undefined) notice.internalNotes = internalNotes
    const r = obj(root?.Recipient)
    if (r !== undefined) {
      const recipient: Record<string, string> = {}
      const fields = [
        ["name", "Name"],
        ["company", "Company"],
        ["address1", "Address1"],
        ["address2", "Address2"],
        ["city", "City"],
        ["state", "State"],
        ["postalCode", "PostalCode"],
        ["country", "Country"]
      ] as const
      for (const [key, tag] of fields) {
        const v = str(r, tag)
        if (v !== undefined) recipient[key] = v
      }
      notice.recipient = recipient
    }
    return notice
  })
