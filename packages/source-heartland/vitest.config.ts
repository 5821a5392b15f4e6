import { defineProject } from "vitest/config"
import { resolveSources } from "../../tooling/vitest.project.js"

export default defineProject({
  ...resolveSources,
  test: {
    name: "source-heartland",
    include: ["test/**/*.test.ts"],
    // The machine is shared; in-process HTTP runs of a few hundred requests need headroom under load.
    testTimeout: 30_000
  }
})
