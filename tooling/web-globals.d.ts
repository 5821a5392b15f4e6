/**
 * The web-standard globals that `packages/*` (all but store-sql) use, declared here so that each package's
 * sources type-check WITHOUT Node's types (`tsconfig.src.json`, part of `pnpm check`): using `Buffer`, `process`
 * or any other Node global in a package's src is then a type error, as DESIGN.md's "runtime-agnostic packages"
 * asks. Node 20, Deno and Bun all provide these. Declare a new one here only if every one of them has it; each
 * declaration covers what the packages use, not the whole web API.
 */
export {}

declare global {
  type BufferSource = ArrayBufferView | ArrayBuffer
  type HeadersInit = ReadonlyArray<readonly [string, string]> | Record<string, string> | Headers
  type BodyInit = string | Uint8Array | ArrayBuffer | ReadableStream<Uint8Array> | URLSearchParams | Blob | FormData

  interface Blob {
    readonly size: number
    readonly type: string
    arrayBuffer(): Promise<ArrayBuffer>
    text(): Promise<string>
  }
  var Blob: {
    prototype: Blob
    new (parts?: ReadonlyArray<string | BufferSource | Blob>, options?: { type?: string }): Blob
  }

  interface File extends Blob {
    readonly name: string
  }

  interface FormData {
    append(name: string, value: string | Blob): void
    get(name: string): string | File | null
    forEach(callback: (value: string | File, key: string, parent: FormData) => void): void
  }
  var FormData: { prototype: FormData; new (): FormData }

  interface ReadableStream<R = unknown> {
    readonly locked: boolean
    cancel(reason?: unknown): Promise<void>
    getReader(): { read(): Promise<{ done: boolean; value?: R }>; releaseLock(): void }
  }

  interface URLSearchParams {
    append(name: string, value: string): void
    delete(name: string): void
    get(name: string): string | null
    getAll(name: string): Array<string>
    has(name: string): boolean
    set(name: string, value: string): void
    sort(): void
    toString(): string
    forEach(callback: (value: string, key: string, parent: URLSearchParams) => void): void
    entries(): IterableIterator<[string, string]>
    keys(): IterableIterator<string>
    values(): IterableIterator<string>
    [Symbol.iterator](): IterableIterator<[string, string]>
    readonly size: number
  }
  var URLSearchParams: {
    prototype: URLSearchParams
    new (
      init?: string | Record<string, string> | ReadonlyArray<readonly [string, string]> | URLSearchParams
    ): URLSearchParams
  }

  interface URL {
    hash: string
    host: string
    hostname: string
    href: string
    readonly origin: string
    password: string
    pathname: string
    port: string
    protocol: string
    search: string
    readonly searchParams: URLSearchParams
    username: string
    toString(): string
    toJSON(): string
  }
  var URL: {
    prototype: URL
    new (url: string | URL, base?: string | URL): URL
    canParse(url: string, base?: string): boolean
  }

  interface TextEncoder {
    readonly encoding: string
    encode(input?: string): Uint8Array
    encodeInto(source: string, destination: Uint8Array): { read: number; written: number }
  }
  var TextEncoder: { prototype: TextEncoder; new (): TextEncoder }

  interface TextDecoder {
    readonly encoding: string
    readonly fatal: boolean
    readonly ignoreBOM: boolean
    decode(input?: BufferSource, options?: { stream?: boolean }): string
  }
  var TextDecoder: {
    prototype: TextDecoder
    new (label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean }): TextDecoder
  }

  // Timers are HTML's (WindowOrWorkerGlobalScope); the handle is opaque, a number on the web, an object in Node.
  type TimerHandle = { readonly __timerHandle: unique symbol }
  function setTimeout(handler: () => void, timeout?: number): TimerHandle
  function clearTimeout(handle: TimerHandle | undefined): void

  function btoa(data: string): string
  function atob(data: string): string

  interface SubtleCrypto {
    digest(algorithm: string | { name: string }, data: BufferSource): Promise<ArrayBuffer>
  }
  interface Crypto {
    readonly subtle: SubtleCrypto
    getRandomValues<T extends ArrayBufferView | null>(array: T): T
    randomUUID(): `${string}-${string}-${string}-${string}-${string}`
  }
  var crypto: Crypto

  interface AbortSignal {
    readonly aborted: boolean
    readonly reason: unknown
    throwIfAborted(): void
  }
  var AbortSignal: { prototype: AbortSignal; abort(reason?: unknown): AbortSignal; timeout(ms: number): AbortSignal }

  interface Headers {
    append(name: string, value: string): void
    delete(name: string): void
    get(name: string): string | null
    has(name: string): boolean
    set(name: string, value: string): void
    forEach(callback: (value: string, key: string, parent: Headers) => void): void
    entries(): IterableIterator<[string, string]>
    [Symbol.iterator](): IterableIterator<[string, string]>
  }
  var Headers: { prototype: Headers; new (init?: HeadersInit): Headers }

  interface Body {
    readonly body: ReadableStream<Uint8Array> | null
    readonly bodyUsed: boolean
    arrayBuffer(): Promise<ArrayBuffer>
    text(): Promise<string>
    json(): Promise<unknown>
    formData(): Promise<FormData>
    blob(): Promise<Blob>
  }

  interface RequestInit {
    method?: string
    headers?: HeadersInit
    body?: BodyInit | null
    signal?: AbortSignal | null
    duplex?: "half"
  }
  interface Request extends Body {
    readonly method: string
    readonly url: string
    readonly headers: Headers
    readonly signal: AbortSignal
    clone(): Request
  }
  var Request: { prototype: Request; new (input: string | URL | Request, init?: RequestInit): Request }

  interface ResponseInit {
    status?: number
    statusText?: string
    headers?: HeadersInit
  }
  interface Response extends Body {
    readonly status: number
    readonly statusText: string
    readonly ok: boolean
    readonly headers: Headers
    readonly url: string
    clone(): Response
  }
  var Response: {
    prototype: Response
    new (body?: BodyInit | null, init?: ResponseInit): Response
    json(data: unknown, init?: ResponseInit): Response
  }

  /** pos-testkit's ShipStation client speaks plain HTTP to a server under test. */
  function fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>
}
