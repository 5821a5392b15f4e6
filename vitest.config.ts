import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*", "tooling/e2e"],
    reporters: ["default"],
    globalSetup: ["tooling/vitest.globalSetup.ts"]
  }
})
