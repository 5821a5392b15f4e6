/**
 * ShipStation's export window: `start_date` and `end_date` at minute precision. The end minute is inclusive:
 * an order stamped 10:05:40 is inside a window ending `10:05`.
 */

import { Data, DateTime, Duration, Either } from "effect"
import * as Echo from "./Echo.js"

export interface OrderWindow {
  readonly start: DateTime.Utc
  /** The last minute included (seconds are zero); the window covers up to `end + 1 minute`, exclusive. */
  readonly end: DateTime.Utc
}

export const acceptedForm = (timeZone = "utc") =>
  `MM/dd/yyyy HH:mm in ${timeZone === "utc" ? "UTC" : `the store's time zone ${timeZone}`} (seconds and AM/PM tolerated), e.g. 01/23/2012 17:28`

export class WindowError extends Data.TaggedError("WindowError")<{
  readonly parameter: "start_date" | "end_date"
  readonly value: string | undefined
  readonly problem: string
  readonly timeZone?: string | undefined
}> {
  override get message() {
    const got = this.value === undefined ? "it is missing" : `got ${Echo.quoted(this.value)}`
    return `${this.parameter}: ${this.problem} (${got}); expected ${acceptedForm(this.timeZone)}.`
  }
}

const form = /^(\d{1,2})\/(\d{1,2})\/(\d{4})[ +T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:[ +]*([AaPp])\.?[Mm]\.?)?$/

/** Parses one date parameter as wall-clock time in `timeZone` ("utc" or an IANA zone) and floors it to the minute. */
export const parseDate = (
  parameter: "start_date" | "end_date",
  raw: string | undefined,
  timeZone = "utc"
): Either.Either<DateTime.Utc, WindowError> => {
  const fail = (problem: string) => Either.left(new WindowError({ parameter, value: raw, problem, timeZone }))
  if (raw === undefined || raw.trim() === "") return fail("the date is required")
  const m = form.exec(raw.trim())
  if (!m) return fail("the date is not in the accepted form")
  const [, mm, dd, yyyy, hh, mi, ss, ampm] = m
  const month = Number(mm)
  const day = Number(dd)
  const year = Number(yyyy)
  let hours = Number(hh)
  const minutes = Number(mi)
  const seconds = ss === undefined ? 0 : Number(ss)
  if (ampm !== undefined) {
    if (hours < 1 || hours > 12) return fail("with AM/PM the hour must be 1-12")
    const pm = ampm.toLowerCase() === "p"
    hours = (hours % 12) + (pm ? 12 : 0)
  }
  if (month < 1 || month > 12) return fail("the month must be 01-12")
  if (hours > 23 || minutes > 59 || seconds > 59) return fail("the time of day is out of range")
  const daysInMonth = new Array(12)
    .fill(31)
    .map((d, i) =>
      i === 1
        ? (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
          ? 29
          : 28
        : [3, 5, 8, 10].includes(i)
          ? 30
          : d
    )[month - 1]!
  if (day < 1 || day > daysInMonth) return fail("the day does not exist in that month")
  const parts = { year, month, day, hours, minutes, seconds: 0, millis: 0 }
  if (timeZone === "utc") return Either.right(DateTime.unsafeMake(parts))
  const zone = DateTime.zoneMakeNamed(timeZone)
  if (zone._tag === "None") return fail(`the store's time zone "${timeZone}" is unknown`)
  // In a DST overlap the earlier instant is chosen, in a gap the later one: both keep windows contiguous.
  const zoned = DateTime.makeZoned(parts, {
    timeZone: zone.value,
    adjustForTimeZone: true,
    disambiguation: "compatible"
  })
  if (zoned._tag === "None") return fail("the date does not exist in the store's time zone")
  return Either.right(DateTime.toUtc(zoned.value))
}

/** Parses both parameters; `start_date` after `end_date` is an error. */
export const parse = (
  params: { readonly start_date?: string | undefined; readonly end_date?: string | undefined },
  timeZone = "utc"
): Either.Either<OrderWindow, WindowError> =>
  Either.gen(function* () {
    const start = yield* parseDate("start_date", params.start_date, timeZone)
    const end = yield* parseDate("end_date", params.end_date, timeZone)
    if (DateTime.greaterThan(start, end)) {
      return yield* Either.left(
        new WindowError({
          parameter: "start_date",
          value: params.start_date,
          problem: `start_date is after end_date "${params.end_date}"`,
          timeZone
        })
      )
    }
    return { start, end }
  })

export const make = (start: DateTime.Utc, end: DateTime.Utc): OrderWindow => ({
  start: floorMinute(start),
  end: floorMinute(end)
})

export const floorMinute = (t: DateTime.Utc): DateTime.Utc => {
  const ms = DateTime.toEpochMillis(t)
  return DateTime.unsafeMake(ms - (((ms % 60_000) + 60_000) % 60_000))
}

/** The first instant after the window. */
export const endExclusive = (w: OrderWindow): DateTime.Utc => DateTime.addDuration(w.end, Duration.minutes(1))

export const contains = (w: OrderWindow, t: DateTime.Utc): boolean =>
  !DateTime.lessThan(t, w.start) && DateTime.lessThan(t, endExclusive(w))

/** `MM/dd/yyyy HH:mm` in UTC, ShipStation's date form (also used inside the XML). */
export const format = (t: DateTime.Utc): string => {
  const p = DateTime.toParts(t)
  const two = (n: number) => String(n).padStart(2, "0")
  return `${two(p.month)}/${two(p.day)}/${p.year} ${two(p.hours)}:${two(p.minutes)}`
}

export const toString = (w: OrderWindow): string => `${format(w.start)} – ${format(w.end)}`
