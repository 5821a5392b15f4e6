import { defineProject } from "vitest/config"
import { resolveSources } from "../../tooling/vitest.project.js"

export default defineProject({
  ...resolveSources,
  test: {
    name: "shipstation",
    include: ["test/**/*.test.ts"]
  }
})
