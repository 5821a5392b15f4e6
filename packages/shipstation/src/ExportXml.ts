/**
 * Renders an export page as ShipStation's Custom Store XML. Orders given here have passed `FieldRules.check`;
 * this module only formats: free text in CDATA, money with two decimals, dates as UTC `MM/dd/yyyy HH:mm`.
 *
 * An empty result is `<Orders pages="0"></Orders>`: a well-formed document (ShipStation reports "Root element
 * is missing" for an empty body) whose page count agrees with the core's paging (0 pages for an empty window).
 */

import { Decimal, type Order, OrderWindow } from "@posbridge/core"
import type { DateTime } from "effect"
import { XMLBuilder } from "fast-xml-parser"
import { clean } from "./FieldRules.js"

export interface ExportedOrder {
  readonly order: Order.Order
  /** The export stamp: decides window membership and is sent as LastModified. */
  readonly stamp: DateTime.Utc
}

export const contentType = "text/xml; charset=utf-8"

const declaration = '<?xml version="1.0" encoding="utf-8"?>\n'

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  cdataPropName: "__cdata",
  suppressEmptyNode: false,
  // Pretty-printing would put whitespace between adjacent CDATA sections, changing the text ShipStation reads.
  format: false
})

/**
 * Free text as CDATA. A `]]>` inside the value would end the section early, so the value is split there
 * into adjacent sections (`…]]` + `>…`), which a parser reads back as the original text.
 */
export const cdata = (value: string): { readonly __cdata: ReadonlyArray<string> } => {
  const parts = clean(value).split("]]>")
  const sections: Array<string> = []
  parts.forEach((part, i) => {
    const head = i > 0 ? ">" : ""
    const tail = i < parts.length - 1 ? "]]" : ""
    sections.push(`${head}${part}${tail}`)
  })
  return { __cdata: sections }
}

const money = (d: Decimal.Decimal): string => Decimal.fixed(d, 2)

type Node = Record<string, unknown>

const put = (node: Node, key: string, value: unknown): void => {
  if (value !== undefined) node[key] = value
}

const text = (value: string | undefined) => (value === undefined ? undefined : cdata(value))

const address = (a: Order.Address, withCountry: boolean): Node => {
  const node: Node = { Name: cdata(a.name) }
  put(node, "Company", text(a.company))
  if (withCountry) {
    put(node, "Address1", text(a.address1))
    put(node, "Address2", text(a.address2))
    put(node, "City", text(a.city))
    put(node, "State", text(a.state))
    put(node, "PostalCode", text(a.postalCode))
    put(node, "Country", a.country === undefined ? undefined : cdata(a.country))
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

const order = ({ order: o, stamp }: ExportedOrder): Node => {
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
  put(node, "CustomerNotes", text(o.customerNotes))
  put(node, "InternalNotes", text(o.internalNotes))
  put(node, "Gift", o.gift === undefined ? undefined : o.gift ? "true" : "false")
  put(node, "GiftMessage", text(o.giftMessage))
  put(node, "CustomField1", text(o.customField1))
  put(node, "CustomField2", text(o.customField2))
  put(node, "CustomField3", text(o.customField3))
  put(node, "RequestedWarehouse", text(o.requestedWarehouse))
  put(node, "Source", text(o.source))
  const customer: Node = { CustomerCode: cdata(o.customerCode), BillTo: address(o.billTo, false) }
  if (o.shipTo !== undefined) customer.ShipTo = address(o.shipTo, true)
  node.Customer = customer
  node.Items = { Item: o.lines.map(item) }
  return node
}

/** The whole response document for one page. */
export const render = (orders: ReadonlyArray<ExportedOrder>, pages: number): string => {
  const root: Node = { "@_pages": String(pages) }
  if (orders.length > 0) root.Order = orders.map(order)
  const body = builder.build({ Orders: root }) as string
  return `${declaration}${body.trim()}\n`
}
