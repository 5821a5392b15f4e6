/**
 * Lightspeed's leaky bucket: each API request costs drips (1 for a read, more with relations, 10 for a write), the
 * bucket leaks `dripRate` drips per second, and a request that would overflow it is refused with a 429 and a
 * Retry-After. Every answer carries the `X-LS-API-*` headers an adapter paces itself by.
 */
export interface BucketOptions {
  /** Bucket size in drips (90 for one register). */
  readonly size: number
  /** Drips leaked per second. */
  readonly dripRate: number
}

export const relationCost = 0.15

const formatLevel = (n: number) => String(Math.round(n * 1000) / 1000)

export const makeBucket = (options: BucketOptions) => {
  const { size, dripRate } = options
  const state = { level: 0, at: 0 }
  const counts = {
    costCharged: 0,
    firstChargedAt: undefined as number | undefined,
    lastChargedAt: undefined as number | undefined
  }
  return {
    counts,
    /** Charges `cost` at `nowMs`, or says how many seconds to wait. */
    charge: (nowMs: number, cost: number): { ok: false; retryAfter: number } | { ok: true } => {
      state.level = Math.max(0, state.level - (dripRate * (nowMs - state.at)) / 1000)
      state.at = nowMs
      if (state.level + cost > size) {
        return { ok: false, retryAfter: Math.max(1, Math.ceil((state.level + cost - size) / dripRate)) }
      }
      state.level += cost
      counts.costCharged += cost
      counts.firstChargedAt ??= nowMs
      counts.lastChargedAt = nowMs
      return { ok: true }
    },
    headers: (cost: number): Record<string, string> => ({
      "x-ls-api-bucket-level": `${formatLevel(state.level)}/${size}`,
      "x-ls-api-drip-rate": String(dripRate),
      "x-ls-api-request-cost": formatLevel(cost)
    })
  }
}

export type Bucket = ReturnType<typeof makeBucket>
