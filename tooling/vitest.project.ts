/**
 * What every package's vitest project shares: workspace packages resolve to their TypeScript sources (the
 * `source` export condition), not to the built `dist/` that production runs, so tests need no build first.
 */
import type { UserWorkspaceConfig } from "vitest/config"

const conditions = ["source", "node", "development|production"]

export const resolveSources: Pick<UserWorkspaceConfig, "resolve" | "ssr"> = {
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ["source"] } }
}
