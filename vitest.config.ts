import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*"],
    reporters: ["default"],
    globalSetup: ["tooling/vitest.globalSetup.ts"]
  }
})
