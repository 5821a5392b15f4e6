import { Schema } from "effect"

/**
 * The status values posbridge sends. The merchant types exactly these into ShipStation's store form
 * (Unpaid / Paid / Shipped / Cancelled / On-Hold mapping, case-sensitive).
 */
export const OrderStatus = Schema.Literal("unpaid", "paid", "shipped", "cancelled", "on_hold")
export type OrderStatus = typeof OrderStatus.Type

export const all: ReadonlyArray<OrderStatus> = OrderStatus.literals
