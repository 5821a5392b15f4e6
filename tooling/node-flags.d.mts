/** The V8 flags `pnpm start` runs the server with (the root package.json's `start` script). */
export declare const serverNodeFlags: ReadonlyArray<string>
