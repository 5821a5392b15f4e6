import { Effect, Logger, LogLevel } from "effect"
import * as Report from "./src/Report.js"
import * as Soak from "./src/Soak.js"

const n = Number(process.argv[2] ?? 300)
for (const m of (process.argv[3] === "m" ? [undefined, "stamp"] : [undefined]) as ReadonlyArray<"stamp" | undefined>) {
  const r = await Effect.runPromise(
    Soak.run({ polls: n, seed: 42, mutation: m }).pipe(Logger.withMinimumLogLevel(LogLevel.None))
  )
  console.log(Report.line(r).slice(0, 400), JSON.stringify(r.details))
}
