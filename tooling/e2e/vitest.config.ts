import { defineProject } from "vitest/config"
import { resolveSources } from "../vitest.project.js"

export default defineProject({
  ...resolveSources,
  test: {
    name: "e2e",
    include: ["test/**/*.test.ts"]
  }
})
