/**
 * Decoding of ShipStation's query parameters. Every rejection carries the sentence ShipStation shows the
 * merchant, naming the parameter and the accepted form.
 */

import { Echo, OrderWindow } from "@posbridge/core"
import { Data, Either } from "effect"

export type Action = "export" | "shipnotify"

export class BadParameter extends Data.TaggedError("BadParameter")<{
  readonly parameter: string
  readonly sentence: string
}> {
  override get message() {
    return this.sentence
  }
}

export interface ExportQuery {
  readonly window: OrderWindow.OrderWindow
  /** 1-based; a page past the last is allowed (it is empty). */
  readonly page: number
}

export const decodeAction = (query: URLSearchParams): Either.Either<Action, BadParameter> => {
  const raw = query.get("action")
  const action = raw?.trim().toLowerCase()
  if (action === "export" || action === "shipnotify") return Either.right(action)
  return Either.left(
    new BadParameter({
      parameter: "action",
      sentence:
        raw === null
          ? 'The action parameter is missing; expected "export" or "shipnotify".'
          : `Unknown action ${Echo.quoted(raw)}; expected "export" or "shipnotify".`
    })
  )
}

/** `page` missing means 1; anything but a positive integer is refused. */
export const decodePage = (query: URLSearchParams): Either.Either<number, BadParameter> => {
  const raw = query.get("page")
  if (raw === null || raw.trim() === "") return Either.right(1)
  const value = raw.trim()
  if (/^\d{1,9}$/.test(value) && Number(value) >= 1) return Either.right(Number(value))
  return Either.left(
    new BadParameter({
      parameter: "page",
      sentence: `The page parameter must be a positive whole number such as 1 or 2 (got ${Echo.quoted(raw)}).`
    })
  )
}

/** Decodes `start_date`, `end_date` (read in the store's time interpretation) and `page`. */
export const decodeExport = (query: URLSearchParams, timeZone = "utc"): Either.Either<ExportQuery, BadParameter> =>
  Either.gen(function* () {
    const window = yield* OrderWindow.parse(
      { start_date: query.get("start_date") ?? undefined, end_date: query.get("end_date") ?? undefined },
      timeZone
    ).pipe(Either.mapLeft((e) => new BadParameter({ parameter: e.parameter, sentence: e.message })))
    const page = yield* decodePage(query)
    return { window, page }
  })
