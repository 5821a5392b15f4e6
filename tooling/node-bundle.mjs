// What an esbuild bundle for node needs, shared by the app build (tooling/build.mjs) and the benchmarks
// (tooling/run-bench.mjs): native drivers stay real modules; CommonJS libraries can still `require`.
export const nodeBundle = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["better-sqlite3", "pg-native"],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" }
}
