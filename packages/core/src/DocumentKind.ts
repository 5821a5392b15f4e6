import { Schema } from "effect"

/**
 * Which POS documents a store sends to ShipStation. Lightspeed: invoices = Sales, orders = Quotes.
 * Heartland: invoices = Invoices, orders = Sales Orders.
 */
export const DocumentKind = Schema.Literal("invoices", "orders")
export type DocumentKind = typeof DocumentKind.Type
