/**
 * The root vitest configuration without its global setup, which builds the server for the end-to-end tests.
 * The mutation check's vitest checks run sources only; building every package again after each mutant cost
 * more than most checks themselves. A check that needs the build sets `build: true` (run.mjs then uses the
 * root configuration).
 */
import { defineConfig } from "vitest/config"
import root from "../../vitest.config.js"

export default defineConfig({ ...root, test: { ...root.test, globalSetup: [] } })
