import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "store-sql",
    include: ["test/**/*.test.ts"]
  }
})
