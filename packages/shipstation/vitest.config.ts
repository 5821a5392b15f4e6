import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "shipstation",
    include: ["test/**/*.test.ts"]
  }
})
