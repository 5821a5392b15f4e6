/** What a failed run was, whether it parks the store, and how it is shown (never with a secret in it). */
import { OrderStore, PosSource } from "@posbridge/core"
import { Cause, Option } from "effect"
import type * as SyncStatus from "../SyncStatus.js"

export type Failure = {
  readonly kind: SyncStatus.ErrorKind
  readonly message: string
  readonly retryAfterMillis?: number
}

const parkingKinds: ReadonlySet<SyncStatus.ErrorKind> = new Set(["auth", "config", "permanent"])

/** Failures no retry can fix: the store waits for new settings (or an explicit sync now). */
export const parks = (kind: SyncStatus.ErrorKind): boolean => parkingKinds.has(kind)

export const scrub = (message: string, secrets: ReadonlyArray<string>): string =>
  secrets.reduce((text, secret) => (secret.length > 0 ? text.split(secret).join("***") : text), message)

export const classify = (cause: Cause.Cause<unknown>): Failure => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    if (error instanceof PosSource.PosSourceError) {
      return error.retryAfterMillis === undefined
        ? { kind: error.kind, message: error.message }
        : { kind: error.kind, message: error.message, retryAfterMillis: error.retryAfterMillis }
    }
    if (error instanceof OrderStore.OrderStoreError) {
      return { kind: "store", message: `order store: ${error.operation}: ${error.message}` }
    }
    return { kind: "transient", message: String(error) }
  }
  const defect = Cause.squash(cause)
  return { kind: "defect", message: defect instanceof Error ? defect.message : String(defect) }
}
