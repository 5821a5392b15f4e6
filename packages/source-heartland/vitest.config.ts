import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "source-heartland",
    include: ["test/**/*.test.ts"]
  }
})
