import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "source-lightspeed",
    include: ["test/**/*.test.ts"]
  }
})
