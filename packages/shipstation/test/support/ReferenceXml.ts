/**
 * The export renderer as it was first written, on fast-xml-parser's XMLBuilder: an object tree per order
 * handed to a generic builder. It was correct but ten times slower than everything else on an export page,
 * so `ExportXml` now writes the document by hand; this copy is the reference the hand-written writer must
 * match byte for byte.
 */
import { Decimal, type Order, OrderWindow } from "@posbridge/core"
import { XMLBuilder } from "fast-xml-parser"
import { ExportXml } from "../../src/index.js"

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  cdataPropName: "__cdata",
  suppressEmptyNode: false,
  format: false
})

type Node = Record<string, unknown>

const cdata = ExportXml.cdata
const money = (d: Decimal.Decimal): string => Decimal.fixed(d, 2)

const put = (node: Node, key: string, value: unknown): void => {
  if (value !== undefined) node[key] = value
}

const text = (value: string | undefined) => (value === undefined ? undefined : cdata(value))

/** Free-text elements in the order given, each only when present. */
const putTexts = (node: Node, elements: Record<string, string | undefined>) => {
  for (const [key, value] of Object.entries(elements)) put(node, key, text(value))
}

const address = (a: Order.Address, withCountry: boolean): Node => {
  const node: Node = { Name: cdata(a.name) }
  put(node, "Company", text(a.company))
  if (withCountry) {
    const {
      address1: Address1,
      address2: Address2,
      city: City,
      state: State,
      postalCode: PostalCode,
      country: Country
    } = a
    putTexts(node, { Address1, Address2, City, State, PostalCode, Country })
  }
  put(node, "Phone", text(a.phone))
  if (!withCountry) put(node, "Email", text(a.email))
  return node
}

const item = (l: Order.OrderLine): Node => {
  const node: Node = {}
  if (l.lineId !== "") node.LineItemID = cdata(l.lineId)
  node.SKU = cdata(l.sku)
  node.Name = cdata(l.name)
  put(node, "ImageUrl", text(l.imageUrl))
  if (l.weight !== undefined) {
    node.Weight = Decimal.fixed(l.weight, 4)
    node.WeightUnits = l.weightUnits ?? "Pounds"
  }
  node.Quantity = String(l.quantity)
  node.UnitPrice = money(l.unitPrice)
  put(node, "UPC", text(l.upc))
  put(node, "Location", text(l.location))
  node.Adjustment = l.adjustment ? "true" : "false"
  if (l.options.length > 0) {
    node.Options = { Option: l.options.map((o) => ({ Name: cdata(o.name), Value: cdata(o.value) })) }
  }
  return node
}

const order = ({ order: o, stamp }: ExportXml.ExportedOrder): Node => {
  const node: Node = {
    OrderID: cdata(o.posRef),
    OrderNumber: cdata(o.orderNumber),
    OrderDate: OrderWindow.format(o.orderDate),
    OrderStatus: cdata(o.status),
    LastModified: OrderWindow.format(stamp)
  }
  put(node, "ShippingMethod", text(o.shippingMethod))
  put(node, "PaymentMethod", text(o.paymentMethod))
  put(node, "CurrencyCode", o.currency)
  node.OrderTotal = money(o.orderTotal)
  put(node, "TaxAmount", o.taxAmount === undefined ? undefined : money(o.taxAmount))
  put(node, "ShippingAmount", o.shippingAmount === undefined ? undefined : money(o.shippingAmount))
  putTexts(node, { CustomerNotes: o.customerNotes, InternalNotes: o.internalNotes })
  put(node, "Gift", o.gift === undefined ? undefined : o.gift ? "true" : "false")
  putTexts(node, {
    GiftMessage: o.giftMessage,
    CustomField1: o.customField1,
    CustomField2: o.customField2,
    CustomField3: o.customField3,
    RequestedWarehouse: o.requestedWarehouse,
    Source: o.source
  })
  const customer: Node = { CustomerCode: cdata(o.customerCode), BillTo: address(o.billTo, false) }
  if (o.shipTo !== undefined) customer.ShipTo = address(o.shipTo, true)
  node.Customer = customer
  node.Items = { Item: o.lines.map(item) }
  return node
}

export const render = (orders: ReadonlyArray<ExportXml.ExportedOrder>, pages: number): string => {
  const root: Node = { "@_pages": String(pages) }
  if (orders.length > 0) root.Order = orders.map(order)
  const body = builder.build({ Orders: root }) as string
  return `<?xml version="1.0" encoding="utf-8"?>\n${body.trim()}\n`
}
