import { defineProject } from "vitest/config"
import { resolveSources } from "../../tooling/vitest.project.js"

export default defineProject({
  ...resolveSources,
  test: {
    name: "conformance",
    include: ["test/**/*.test.ts"],
    // Each scenario test runs dozens of in-process servers and polls; under CI load that takes more than 5 s.
    testTimeout: 60_000
  }
})
