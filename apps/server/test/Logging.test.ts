import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Logger } from "effect"
import * as Logging from "../src/Logging.js"

const forged = "shop\n level=ERROR forged\r\u001b[2Jgone"

/** The lines `format` writes for `program`. */
const linesOf = <A, E>(format: Logging.Format, program: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const lines: Array<string> = []
    const capture = Logger.make<unknown, void>((options) => {
      lines.push(...Logging.logger(format).log(options).split("\n"))
    })
    yield* program.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)))
    return lines
  })

const request = Effect.logWarning(`request for store ${forged}`).pipe(
  Effect.annotateLogs({ storeId: forged, query: "a=1\nlevel=ERROR forged", component: "shipstation" })
)

describe("log lines", () => {
  it.effect("text: one readable line per entry; a line break or escape sequence from a request is escaped", () =>
    Effect.gen(function* () {
      const lines = yield* linesOf("text", request)
      expect(lines).toEqual([
        expect.stringMatching(
          /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] WARN \(#\d+\): request for store shop\\n level=ERROR forged\\r\\u001b\[2Jgone /
        )
      ])
      const line = lines[0] ?? ""
      expect(line).toContain(' store="shop\\n level=ERROR forged\\r\\u001b[2Jgone"')
      expect(line).toContain(' query="a=1\\nlevel=ERROR forged"')
      expect(line).toContain(" component=shipstation")
      expect([...line].filter((c) => c.charCodeAt(0) < 0x20)).toEqual([])
    })
  )

  it.effect("json: one object per line with time, level, store, message and the span's ids", () =>
    Effect.gen(function* () {
      const lines = yield* linesOf("json", request.pipe(Effect.withSpan("ShipStation.export")))
      expect(lines).toHaveLength(1)
      const entry = JSON.parse(lines[0] ?? "")
      expect(entry).toMatchObject({
        level: "WARN",
        message: `request for store ${forged}`,
        store: forged,
        query: "a=1\nlevel=ERROR forged",
        component: "shipstation",
        traceId: expect.stringMatching(/^\w+$/),
        spanId: expect.stringMatching(/^\w+$/)
      })
      expect(new Date(entry.time).toISOString()).toBe(entry.time)
      // Outside a span there are no span ids.
      const plain = JSON.parse((yield* linesOf("json", Effect.logInfo("started")))[0] ?? "")
      expect(plain).not.toHaveProperty("traceId")
      expect(plain).toMatchObject({ level: "INFO", message: "started" })
    })
  )

  it.effect("an error's cause stays on its entry's line in both formats", () =>
    Effect.gen(function* () {
      const failing = Effect.logError("order store failed", new Error("boom\nlevel=ERROR forged"))
      const text = yield* linesOf("text", failing)
      expect(text).toHaveLength(1)
      expect(text[0]).toMatch(/^\[.*\] ERROR \(#\d+\): order store failed Error: boom\\nlevel=ERROR forged/)
      const json = yield* linesOf("json", failing)
      expect(json).toHaveLength(1)
      expect(JSON.parse(json[0] ?? "").level).toBe("ERROR")
    })
  )

  it("LOG_FORMAT: text by default, json on request, anything else refused in one sentence", () => {
    expect(Logging.formatFromEnv({})).toEqual(Either.right("text"))
    expect(Logging.formatFromEnv({ LOG_FORMAT: "JSON" })).toEqual(Either.right("json"))
    expect(Logging.formatFromEnv({ LOG_FORMAT: "xml" })).toEqual(
      Either.left('LOG_FORMAT must be "text" or "json", not "xml".')
    )
  })
})
