import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "pos-testkit",
    include: ["test/**/*.test.ts"]
  }
})
