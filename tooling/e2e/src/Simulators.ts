/** POS simulators listening on a real local port, for servers and CLIs running as other processes. */
import { createServer } from "node:http"
import { type HttpApp, HttpServer, HttpServerRequest } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Simulator as Heartland } from "@posbridge/source-heartland/testing"
import { Simulator as Lightspeed } from "@posbridge/source-lightspeed/testing"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { freePort } from "./Processes.js"

/** A request as the simulator received it over HTTP, before authentication, faults or routing. */
export interface LoggedRequest {
  readonly method: string
  /** Path and query string, as sent. */
  readonly url: string
}

export interface RunningSimulator<Control = Heartland.Control> {
  readonly url: string
  readonly control: Control
  /** Every request received so far, oldest first: what a client really asked, whatever it reports. */
  readonly requests: () => ReadonlyArray<LoggedRequest>
  readonly close: () => Promise<void>
}

/** Serves `app` on 127.0.0.1 (`port` 0: any free port) until `close`, logging every request. */
const listen = async <E>(app: HttpApp.Default<E>, port: number) => {
  const log: Array<LoggedRequest> = []
  const logged = Effect.zipRight(
    Effect.map(HttpServerRequest.HttpServerRequest, (request) =>
      log.push({ method: request.method, url: request.url })
    ),
    app
  )
  const scope = await Effect.runPromise(Scope.make())
  const layer = HttpServer.serve(logged).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port, host: "127.0.0.1" }))
  )
  const context = await Effect.runPromise(Layer.buildWithScope(layer, scope))
  const address = Context.get(context, HttpServer.HttpServer).address
  return {
    url: `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`,
    requests: (): ReadonlyArray<LoggedRequest> => [...log],
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

/** A Heartland simulator on 127.0.0.1 with `orders` seeded orders, accepting `token`. */
export const heartlandSimulator = async (options: {
  orders: number
  token: string
  seed?: number
}): Promise<RunningSimulator> => {
  const sim = await Effect.runPromise(Heartland.make({ token: options.token }))
  await Effect.runPromise(Heartland.seedDemo(sim.control, { seed: options.seed ?? 1, orders: options.orders }))
  return { ...(await listen(sim.app, 0)), control: sim.control }
}

/** A Lightspeed simulator (OAuth endpoints included) on 127.0.0.1 with `sales` seeded sales. */
export const lightspeedSimulator = async (options: {
  sales: number
}): Promise<RunningSimulator<Lightspeed.Control>> => {
  // Its API base URL is part of what it serves (OAuth answers), so the port is chosen before it starts.
  const port = await freePort()
  const sim = await Effect.runPromise(Lightspeed.make({ accountId: "1000", apiBaseUrl: `http://127.0.0.1:${port}` }))
  await Effect.runPromise(Lightspeed.seedDemo(sim.control, { sales: options.sales, seed: 3, days: 2 }))
  return { ...(await listen(sim.app, port)), control: sim.control }
}
