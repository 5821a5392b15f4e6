/**
 * The layering of ../shared/DESIGN.md ("Layout"), checked on every `pnpm test` (`pnpm lint:deps`):
 * core at the bottom; adapters and the store above it; sync; apps on top; no import runs back up.
 * Each rule's comment is what a maintainer sees when it fails.
 * @type {import('dependency-cruiser').IConfiguration}
 */
const packageSrc = "^packages/[^/]+/src/"

module.exports = {
  forbidden: [
    {
      name: "core-imports-only-effect",
      comment: "packages/core is the pure model: it may import `effect` and its own modules, nothing else.",
      severity: "error",
      from: { path: "^packages/core/src/" },
      to: { pathNot: ["^packages/core/src/", "node_modules/effect/"] }
    },
    {
      name: "packages-are-runtime-agnostic",
      comment:
        "Only apps/* (and store-sql, for its drivers) may import node: modules; packages use web APIs and @effect/platform.",
      severity: "error",
      from: { path: packageSrc, pathNot: "^packages/store-sql/" },
      to: { dependencyTypes: ["core"] }
    },
    {
      name: "adapters-stand-alone",
      comment: "A POS adapter never imports another adapter, the store, sync or an app.",
      severity: "error",
      from: { path: "^packages/(source-[^/]+)/src/" },
      to: { path: "^packages/(source-[^/]+|store-sql|sync)/|^apps/", pathNot: "^packages/$1/" }
    },
    {
      name: "packages-never-import-apps",
      comment: "apps/* are the composition roots; no package depends on one.",
      severity: "error",
      from: { path: "^packages/" },
      to: { path: "^apps/" }
    },
    {
      name: "apps-never-import-apps",
      comment: "No app (its code or its tests) imports another app; shared test pieces live in packages or tooling.",
      severity: "error",
      from: { path: "^apps/([^/]+)/" },
      to: { path: "^apps/", pathNot: "^apps/$1/" }
    },
    {
      name: "test-aids-stay-out-of-production",
      comment:
        "Simulators and other test aids live behind `testing` entry points; production code imports them only in the demo and `posbridge simulate`.",
      severity: "error",
      from: {
        path: "^(packages|apps)/[^/]+/src/",
        pathNot: [
          "/src/testing/",
          "^packages/pos-testkit/",
          "^apps/server/src/Demo\\.ts$",
          "^apps/server/src/Simulate\\.ts$",
          "^apps/conformance/"
        ]
      },
      to: { path: ["^packages/[^/]+/src/testing/", "^packages/pos-testkit/"] }
    },
    {
      name: "no-cycles",
      comment: "Modules that import each other cannot be read, tested or moved one at a time.",
      severity: "error",
      from: {},
      to: { circular: true }
    },
    {
      name: "no-unresolvable",
      comment: "An import that does not resolve would fail at run time.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true }
    }
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(node_modules|dist|fixtures)/|^tooling/adapter-template/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.base.json" },
    // Workspace packages resolve to their sources (the `source` export condition), as in development.
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["source", "import", "default"],
      extensions: [".ts", ".js", ".mjs", ".cjs", ".json"]
    },
    reporterOptions: { text: { highlightFocused: true } }
  }
}
