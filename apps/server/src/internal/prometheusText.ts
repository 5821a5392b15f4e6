/**
 * The Prometheus text of Effect's metric registry, written for a scrape without the OpenTelemetry round trip for
 * the families that make it large.
 *
 * At 1,000 stores a scrape writes about 16,000 series, nearly all of them per store. Through
 * `@effect/opentelemetry`'s producer and the exporter's serializer each series becomes an attributes object, a data
 * point, an `Object.entries` walk and several regular-expression passes, at every scrape: over 100 ms. Here the
 * per-store gauges (`Metrics.storeGaugeFamilies`) are written from their table (`Metrics.storeGauges`: each store's
 * latest stats, not registry series), for the stores the runner owns; the other store-labelled families (counters
 * and gauges with a `store` label) straight from the registry's snapshot, each series' label text kept between
 * scrapes (a registry key lives as long as the process). The other
 * families (histograms, Effect's runtime metrics: few series) are converted as `@effect/opentelemetry`'s producer
 * converts them and written by the exporter's own `PrometheusSerializer`, so their text is the exporter's.
 *
 * What the fast path writes is what the exporter writes for the same data (checked sample for sample against it in
 * `test/MetricsText.test.ts`): names sanitized, `_total` on monotonic counters, `# HELP`, `# UNIT` and `# TYPE`,
 * label values escaped (backslash, newline, double quote), the resource's constant labels (`runner`) on every
 * series. Families come in two groups (the serializer's, then the fast ones), an order Prometheus does not care
 * about.
 */
import { type Attributes, ValueType } from "@opentelemetry/api"
import type { PrometheusSerializer } from "@opentelemetry/exporter-prometheus"
import type { Resource } from "@opentelemetry/resources"
import {
  AggregationTemporality,
  type DataPoint,
  DataPointType,
  type Histogram,
  type MetricData
} from "@opentelemetry/sdk-metrics"
import type { Metrics, OrderStore } from "@posbridge/core"
import { Metric, type MetricKey, MetricKeyType, type MetricPair, MetricState, Option } from "effect"

/** The scope `@effect/opentelemetry`'s producer names (not written: the serializer runs without scope info). */
const scope = { name: "@effect/opentelemetry/Metrics" }

export interface Options {
  /** The resource the exporter would report: its attributes matching `constantLabels` label every series. */
  readonly resource: Resource
  readonly constantLabels: RegExp
  /**
   * The per-store gauge families (`Metrics.storeGaugeFamilies`), written from `storeGaugeTable` for the stores a
   * scrape says are owned; series of these names in Effect's registry are ignored.
   */
  readonly storeGauges: ReadonlyArray<Metrics.StoreGaugeFamily>
  /** Each store's latest stats (`Metrics.storeGauges`). */
  readonly storeGaugeTable: () => ReadonlyMap<string, OrderStore.OrderStats>
  /** The exporter's serializer class (loaded by the caller, only when metrics are served). */
  readonly Serializer: typeof PrometheusSerializer
}

export interface PrometheusText {
  /** The exposition text of the registry and the store gauges now, the gauges of stores not in `owned` left out. */
  readonly render: (owned: ReadonlySet<string>) => string
}

export const make = (options: Options): PrometheusText => {
  // Configured as `Telemetry.serveMetrics` configured the exporter: no prefix, no timestamps, no scope labels.
  const serializer = new options.Serializer(undefined, false, options.constantLabels, false, true)
  const constant = constantLabelText(options.resource.attributes, options.constantLabels)
  const gaugeNames = new Set(options.storeGauges.map((f) => f.name))
  const labelsOf = new WeakMap<MetricKey.MetricKey.Untyped, Labels>()
  // A store's `store="…"` label text, kept between scrapes (one per configured store).
  const storeLabels = new Map<string, string>()
  const storeLabel = (store: string) => {
    let l = storeLabels.get(store)
    if (l === undefined) {
      l = `store="${escapeValue(store)}"`
      storeLabels.set(store, l)
    }
    return l
  }
  const labels = (key: MetricKey.MetricKey.Untyped): Labels => {
    let l = labelsOf.get(key)
    if (l === undefined) {
      l = keyLabels(key, constant)
      labelsOf.set(key, l)
    }
    return l
  }

  const render = (owned: ReadonlySet<string>) => {
    const families = new Map<string, Array<MetricPair.MetricPair.Untyped>>()
    for (const pair of Metric.unsafeSnapshot()) {
      // Written from the table below, never from the registry (an oracle may copy them there).
      if (gaugeNames.has(pair.metricKey.name)) continue
      const family = families.get(pair.metricKey.name)
      if (family === undefined) families.set(pair.metricKey.name, [pair])
      else family.push(pair)
    }
    const derived = summaryNames(families)
    const rest: Array<MetricPair.MetricPair.Untyped> = []
    let fast = ""
    for (const [name, pairs] of families) {
      if (derived.has(name) || !storeLabelled(pairs, labels)) {
        for (const p of pairs) rest.push(p)
        continue
      }
      fast += writeFamily(pairs, labels)
    }
    fast += writeStoreGauges(options.storeGauges, options.storeGaugeTable(), owned, constant, storeLabel)
    const metrics = toMetricData(rest)
    const text = serializer.serialize({ resource: options.resource, scopeMetrics: [{ scope, metrics }] })
    // With no other family the serializer says so in a comment: not when the fast ones follow.
    return metrics.length === 0 && fast !== "" ? text.slice(0, text.length - noMetrics.length) + fast : text + fast
  }
  return { render }
}

/**
 * The per-store rule of `Telemetry.ownedOnly` on OpenTelemetry data: points of `storeGauges` families whose store is
 * not owned are dropped, and a family left without points with them.
 */
export const keepOwned = (
  metrics: ReadonlyArray<MetricData>,
  owned: ReadonlySet<string>,
  storeGauges: ReadonlySet<string>
): Array<MetricData> =>
  metrics.flatMap((metric) => {
    if (!storeGauges.has(metric.descriptor.name)) return [metric]
    const points = (metric.dataPoints as ReadonlyArray<(typeof metric.dataPoints)[number]>).filter((p) =>
      owned.has(String(p.attributes.store))
    )
    return points.length === 0 ? [] : [{ ...metric, dataPoints: points } as typeof metric]
  })

// ---- the fast path: counters and gauges with a store label

/** A series' label text (its own labels, then the constant ones), its unit, and whether it names a store. */
interface Labels {
  readonly text: string
  readonly unit: string
  readonly hasStore: boolean
}

const storeLabelled = (
  pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>,
  labels: (key: MetricKey.MetricKey.Untyped) => Labels
) => {
  let store = false
  for (const p of pairs) {
    const type = p.metricKey.keyType
    if (!MetricKeyType.isCounterKey(type) && !MetricKeyType.isGaugeKey(type)) return false
    store ||= labels(p.metricKey).hasStore
  }
  return store
}

const writeFamily = (
  pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>,
  labels: (key: MetricKey.MetricKey.Untyped) => Labels
): string => {
  const first = pairs[0]!
  let name = promName(first.metricKey.name)
  if (name === "" || name === "_") return ""
  const firstType = first.metricKey.keyType
  const monotonic = MetricKeyType.isCounterKey(firstType) && firstType.incremental
  if (monotonic && !name.endsWith("_total")) name += "_total"
  let samples = ""
  for (const p of pairs) {
    const l = labels(p.metricKey)
    const state = p.metricState
    const value = MetricState.isCounterState(state)
      ? state.count
      : (state as MetricState.MetricState.Gauge<number>).value
    samples += `${name}${l.text} ${valueString(Number(value))}\n`
  }
  const description = Option.getOrElse(first.metricKey.description, () => "")
  const unit = labels(first.metricKey).unit
  return `# HELP ${name} ${escapeString(description || "description missing")}${
    unit ? `\n# UNIT ${name} ${escapeString(unit)}` : ""
  }\n# TYPE ${name} ${monotonic ? "counter" : "gauge"}\n${samples}`
}

/**
 * The per-store gauge families from each owned store's latest stats, as the serializer writes a gauge of the
 * registry tagged `store` (then the family's own labels): a family with no owned store is left out.
 */
const writeStoreGauges = (
  families: ReadonlyArray<Metrics.StoreGaugeFamily>,
  table: ReadonlyMap<string, OrderStore.OrderStats>,
  owned: ReadonlySet<string>,
  constant: string,
  storeLabel: (store: string) => string
): string => {
  const tail = constant === "" ? "}" : `,${constant}}`
  let text = ""
  for (const family of families) {
    const name = promName(family.name)
    let samples = ""
    for (const [store, stats] of table) {
      if (!owned.has(store)) continue
      const head = `${name}{${storeLabel(store)}`
      for (const [labels, value] of family.samples(stats)) {
        let line = head
        for (const [k, v] of labels) line += `,${labelName(k)}="${escapeValue(v)}"`
        samples += `${line}${tail} ${valueString(value)}\n`
      }
    }
    if (samples === "") continue
    const help = escapeString(family.description || "description missing")
    text += `# HELP ${name} ${help}\n# UNIT ${name} 1\n# TYPE ${name} gauge\n${samples}`
  }
  return text
}

/** A key's label text, as the serializer writes the producer's attributes, and what the fast path needs of it. */
const keyLabels = (key: MetricKey.MetricKey.Untyped, constant: string): Labels => {
  const attributes = attributesOf(key)
  let text = ""
  for (const [k, v] of Object.entries(attributes))
    text += `${text === "" ? "" : ","}${labelName(k)}="${escapeValue(v)}"`
  if (constant !== "") text += `${text === "" ? "" : ","}${constant}`
  return {
    text: text === "" ? "" : `{${text}}`,
    unit: unitOf(attributes),
    hasStore: "store" in attributes
  }
}

/** A key's tags as the producer makes its attributes (a repeated key: the last value, at the first place). */
const attributesOf = (key: MetricKey.MetricKey.Untyped) => {
  const attributes: Record<string, string> = {}
  for (const tag of key.tags) attributes[tag.key] = tag.value
  return attributes
}

/** The unit the producer reports: a `unit` or `time_unit` tag, else "1". */
const unitOf = (attributes: Record<string, string>) => attributes.unit ?? attributes.time_unit ?? "1"

const constantLabelText = (attributes: Attributes, pattern: RegExp) => {
  let text = ""
  for (const [k, v] of Object.entries(attributes)) {
    if (k.match(pattern)) text += `${text === "" ? "" : ","}${labelName(k)}="${escapeValue(v)}"`
  }
  return text
}

// The exporter's rules (PrometheusSerializer): names and label names keep [a-zA-Z0-9_], runs of `_` become one;
// help text escapes backslash and newline, label values also the double quote; non-string values are JSON.
const escapeString = (s: string) => (/[\\\n]/.test(s) ? s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n") : s)
const escapeValue = (v: unknown = "") => {
  const s = typeof v === "string" ? v : JSON.stringify(v)
  return /[\\\n"]/.test(s) ? escapeString(s).replace(/"/g, '\\"') : s
}
const sanitize = (s: string) => s.replace(/[^a-z0-9_]/gi, "_").replace(/_{2,}/g, "_")
const labelName = sanitize
const promName = (metricName: string) => {
  const name = sanitize(escapeString(metricName))
  return name[0] !== undefined && name[0] >= "0" && name[0] <= "9" ? `_${name}` : name
}
const valueString = (v: number) =>
  v === Number.POSITIVE_INFINITY ? "+Inf" : v === Number.NEGATIVE_INFINITY ? "-Inf" : `${v}`

/** What the serializer writes when it has no family. */
const noMetrics = "# no registered metrics"

/** The families a summary adds besides its own name: another family of that name merges with them. */
const summaryNames = (families: ReadonlyMap<string, ReadonlyArray<MetricPair.MetricPair.Untyped>>) => {
  const names = new Set<string>()
  for (const [name, pairs] of families) {
    if (pairs.some((p) => MetricKeyType.isSummaryKey(p.metricKey.keyType))) {
      for (const suffix of ["quantiles", "count", "sum"]) names.add(`${name}_${suffix}`)
    }
  }
  return names
}

// ---- the other families, converted as @effect/opentelemetry's producer converts them

const toMetricData = (pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>): Array<MetricData> => {
  const now = Date.now()
  const time: [number, number] = [Math.floor(now / 1000), (now % 1000) * 1_000_000]
  const metricData: Array<MetricData> = []
  const byName = new Map<string, MetricData>()
  const add = (data: MetricData) => {
    metricData.push(data)
    byName.set(data.descriptor.name, data)
  }
  const point = <A>(attributes: Attributes, value: A): DataPoint<A> => ({
    startTime: time,
    endTime: time,
    attributes,
    value
  })
  const push = (
    name: string,
    points: ReadonlyArray<DataPoint<number> | DataPoint<Histogram>>,
    make: () => MetricData
  ) => {
    const existing = byName.get(name)
    if (existing === undefined) add(make())
    else (existing.dataPoints as Array<DataPoint<unknown>>).push(...points)
  }
  for (const { metricKey, metricState } of pairs) {
    const attributes = attributesOf(metricKey)
    const descriptor = descriptorOf(metricKey, attributes)
    if (MetricState.isCounterState(metricState)) {
      const points = [point(attributes, Number(metricState.count))]
      push(descriptor.name, points, () => ({
        dataPointType: DataPointType.SUM,
        descriptor,
        isMonotonic: isMonotonic(metricKey.keyType),
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPoints: points
      }))
    } else if (MetricState.isGaugeState(metricState)) {
      const points = [point(attributes, Number(metricState.value))]
      push(descriptor.name, points, () => ({
        dataPointType: DataPointType.GAUGE,
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPoints: points
      }))
    } else if (MetricState.isHistogramState(metricState)) {
      const size = metricState.buckets.length
      const boundaries: Array<number> = []
      const counts: Array<number> = []
      let prev = 0
      metricState.buckets.forEach(([boundary, cumulative], i) => {
        if (i < size - 1) boundaries.push(boundary)
        counts.push(cumulative - prev)
        prev = cumulative
      })
      const { count, min, max, sum } = metricState
      const points = [point<Histogram>(attributes, { buckets: { boundaries, counts }, count, min, max, sum })]
      push(descriptor.name, points, () => ({
        dataPointType: DataPointType.HISTOGRAM,
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPoints: points
      }))
    } else if (MetricState.isFrequencyState(metricState)) {
      const points = Array.from(metricState.occurrences, ([key, n]) => point({ ...attributes, key }, n))
      push(descriptor.name, points, () => ({
        dataPointType: DataPointType.SUM,
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        isMonotonic: true,
        dataPoints: points
      }))
    } else if (MetricState.isSummaryState(metricState)) {
      const quantiles = [
        point({ ...attributes, quantile: "min" }, metricState.min),
        ...metricState.quantiles.map(([q, v]) =>
          point(
            { ...attributes, quantile: q.toString() },
            Option.getOrElse(v, () => 0)
          )
        ),
        point({ ...attributes, quantile: "max" }, metricState.max)
      ]
      const count = point(attributes, metricState.count)
      const sum = point(attributes, metricState.sum)
      const quantilesName = `${metricKey.name}_quantiles`
      const existing = byName.get(quantilesName)
      if (existing !== undefined) {
        ;(existing.dataPoints as Array<DataPoint<number>>).push(...quantiles)
        ;(byName.get(`${metricKey.name}_count`)!.dataPoints as Array<DataPoint<number>>).push(count)
        ;(byName.get(`${metricKey.name}_sum`)!.dataPoints as Array<DataPoint<number>>).push(sum)
      } else {
        const meta = (suffix: string) => ({
          name: `${metricKey.name}_${suffix}`,
          description: Option.getOrElse(metricKey.description, () => "")
        })
        add({
          dataPointType: DataPointType.SUM,
          descriptor: descriptorOf(metricKey, attributes, "quantiles"),
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          isMonotonic: false,
          dataPoints: quantiles
        })
        add({
          dataPointType: DataPointType.SUM,
          descriptor: { ...meta("count"), unit: "1", valueType: ValueType.INT },
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          isMonotonic: true,
          dataPoints: [count]
        })
        add({
          dataPointType: DataPointType.SUM,
          descriptor: { ...meta("sum"), unit: "1", valueType: ValueType.DOUBLE },
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          isMonotonic: true,
          dataPoints: [sum]
        })
      }
    }
  }
  return metricData
}

const descriptorOf = (key: MetricKey.MetricKey.Untyped, attributes: Record<string, string>, suffix?: string) => ({
  name: suffix ? `${key.name}_${suffix}` : key.name,
  description: Option.getOrElse(key.description, () => ""),
  unit: unitOf(attributes),
  valueType: "bigint" in key.keyType && key.keyType.bigint === true ? ValueType.INT : ValueType.DOUBLE
})

/** Whether the producer calls the key's instrument a counter (else an up-down counter, a gauge, a histogram). */
const isMonotonic = (type: MetricKeyType.MetricKeyType<unknown, unknown>) =>
  MetricKeyType.isFrequencyKey(type) || (MetricKeyType.isCounterKey(type) && type.incremental)
