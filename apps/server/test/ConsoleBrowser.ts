/**
 * What the console's browser tests run on: the real demo server as `pnpm start` runs it (the built `dist/bin.js
 * serve`, with the start script's V8 flags and no configuration, so demo mode, its data in a temp directory), and Debian's Chromium driven by
 * playwright-core. Without /usr/bin/chromium the suite is skipped with a notice, except in CI, where it fails.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { describe, it } from "@effect/vitest"
import { capture, freePort, tempDir } from "@posbridge/e2e/Processes"
import { basic, serverEntry, serverNodeFlags } from "@posbridge/e2e/ServerProcess"
import { Schema } from "effect"
import type { Page } from "playwright-core"
import * as AdminApi from "../src/AdminApi.js"

export const chromiumPath = process.env.POSBRIDGE_CHROMIUM ?? "/usr/bin/chromium"
const inCi = ["true", "1"].includes((process.env.CI ?? "").toLowerCase())

/** Registers the browser suites, or skips them with a notice outside CI when Chromium is absent. */
export const withChromium = (register: () => void) => {
  if (existsSync(chromiumPath)) return register()
  if (!inCi) {
    console.warn(`Chromium is not at ${chromiumPath}: the console's browser tests are skipped (CI requires it).`)
    describe.skip(`the console in a browser (no Chromium at ${chromiumPath})`, register)
    return
  }
  it("Chromium is installed", () => {
    throw new Error(`no Chromium at ${chromiumPath}; CI requires it (.ci/run installs it with apt)`)
  })
}

export const screenshots = new URL("./screenshots/", import.meta.url).pathname
mkdirSync(screenshots, { recursive: true })

/** Full-page screenshots of `page` at desktop (1280 px) and phone (375 px) widths: `<name>-1280.png`, `-375.png`. */
export const shoot = async (page: Page, name: string) => {
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 900 })
    await page.screenshot({ path: join(screenshots, `${name}-${width}.png`), fullPage: true })
  }
  await page.setViewportSize({ width: 1280, height: 900 })
}

export interface DemoServer {
  readonly url: string
  readonly database: string
  readonly output: () => string
  readonly stop: () => Promise<void>
}

/** `posbridge serve` in demo mode, started from a fresh directory (its demo database there), ready on /readyz. */
export const startDemo = async (): Promise<DemoServer> => {
  const dir = tempDir("console")
  const port = await freePort()
  // Several demo servers may run at once (test files run in parallel): each takes any free port for its metrics.
  const env: Record<string, string | undefined> = {
    ...process.env,
    PORT: String(port),
    INIT_CWD: dir,
    POSBRIDGE_METRICS_ADDRESS: "127.0.0.1:0"
  }
  delete env.POSBRIDGE_CONFIG
  delete env.POSBRIDGE_DATA_DIR
  const child: ChildProcess = spawn(process.execPath, [...serverNodeFlags, await serverEntry(), "serve"], {
    cwd: dir,
    env,
    stdio: ["ignore", "pipe", "pipe"]
  })
  const out = capture(child)
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the demo server exited with ${child.exitCode}:\n${out.all()}`)
    if (
      await fetch(`${url}/readyz`).then(
        (r) => r.status === 200,
        () => false
      )
    )
      break
    if (Date.now() > deadline) {
      child.kill("SIGKILL")
      throw new Error(`the demo server did not become ready:\n${out.all()}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    database: join(dir, "data", "demo.sqlite"),
    output: out.all,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM")
      await exited
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

const shipstation = basic("demo", "demo")
export const admin = basic("admin", "demo")

/** ShipStation's export of a demo store over `start`..2099 (`MM/dd/yyyy HH:mm`, UTC): the OrderIDs and numbers. */
export const exportOrders = async (url: string, storeId: string, start = "01/01/2020 00:00") => {
  const q = new URLSearchParams({ action: "export", start_date: start, end_date: "12/31/2099 00:00" })
  const r = await fetch(`${url}/shipstation/${storeId}?${q}`, { headers: { authorization: shipstation } })
  if (r.status !== 200) throw new Error(`export of ${storeId} answered ${r.status}: ${await r.text()}`)
  const xml = await r.text()
  const all = (tag: string) =>
    [...xml.matchAll(new RegExp(`<${tag}><!\\[CDATA\\[([^\\]]*)\\]\\]>`, "g"))].map((m) => m[1] ?? "")
  const modified = [...xml.matchAll(/<LastModified>(\d\d)\/(\d\d)\/(\d{4}) (\d\d):(\d\d)<\/LastModified>/g)].map((m) =>
    Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2]), Number(m[4]), Number(m[5]))
  )
  return { ids: all("OrderID"), numbers: all("OrderNumber"), modified }
}

/** A ship notice from ShipStation to a demo store (the XML body ShipStation posts). */
export const shipNotify = async (url: string, storeId: string, body: string) => {
  const r = await fetch(`${url}/shipstation/${storeId}?action=shipnotify`, {
    method: "POST",
    headers: { authorization: shipstation, "content-type": "application/xml; charset=utf-8" },
    body: `<?xml version="1.0" encoding="utf-8"?><ShipNotice>${body}<Items/></ShipNotice>`
  })
  if (r.status !== 200) throw new Error(`ship notice answered ${r.status}: ${await r.text()}`)
}

/** The admin API's view of a store's write-backs an operator may act on. */
export const writeBacks = async (url: string, storeId: string) => {
  const r = await fetch(`${url}/admin/api/stores/${storeId}`, { headers: { authorization: admin } })
  const body = Schema.decodeUnknownSync(AdminApi.StoreDetail)(await r.json())
  return body.writeBacks
}

/** `MM/dd/yyyy HH:mm` in UTC, the minute of `at` (ShipStation's export dates). */
export const shipStationDate = (at: Date) => {
  const two = (n: number) => String(n).padStart(2, "0")
  return `${two(at.getUTCMonth() + 1)}/${two(at.getUTCDate())}/${at.getUTCFullYear()} ${two(at.getUTCHours())}:${two(at.getUTCMinutes())}`
}
