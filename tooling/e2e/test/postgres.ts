/**
 * Registers a test file's PostgreSQL suites like store-sql's `withPostgres`: outside CI with no server answering
 * they are skipped with a notice; in CI (`CI=true`) a missing server fails.
 */
import { describe, it } from "vitest"
import { inCi, pgReachable, shownServer } from "../src/Postgres.js"

export const withPostgres = async (name: string, register: () => void): Promise<void> => {
  const reachable = await pgReachable()
  if (!reachable && !inCi) {
    console.warn(`PostgreSQL is not reachable at ${shownServer}: "${name}" is skipped (set CI=true to require it).`)
    describe.skip(`${name} (no PostgreSQL at ${shownServer})`, register)
    return
  }
  if (!reachable) {
    it("PostgreSQL is reachable", () => {
      throw new Error(`no PostgreSQL answers at ${shownServer}; CI requires it`)
    })
  }
  describe(name, register)
}
