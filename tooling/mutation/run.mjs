/**
 * `pnpm mutation [--only NAME ...] [--every-check] [--list] [--validate] [--keep] [--timeout-factor N]`
 *
 * The mutation check (README, "Mutation check"): applies each mutant of `mutants.mjs`, one at a time, to a
 * temporary copy of the repository and runs that mutant's checks; a mutant survives when every check still
 * passes. The developer's tree is never written to: the copy is made of the working tree's files (tracked and
 * untracked, ignored ones left out, so uncommitted edits are what is measured), installed from pnpm's store
 * offline, and deleted at the end. Nothing is registered in the repository (no git worktree).
 *
 * Order of work: copy and install; check that every mutant's search string occurs exactly once (else stop);
 * run every check the selected mutants use on the unmutated copy (each must pass and run at least one test,
 * else stop); then each mutant. Exit code: 0 all killed, 1 some survived, 2 the run could not be made.
 *
 *   --only NAME      run only this mutant (repeatable, or comma-separated)
 *   --every-check    run all of a mutant's checks, not only up to the first that kills it (which checks miss it)
 *   --list           print the mutants and their checks, and stop
 *   --validate       only check the search strings against the working tree (no copy, no tests)
 *   --typecheck      typecheck each mutant's package with the mutant in place, instead of running its checks
 *                    (a mutant should be a bug the compiler accepts)
 *   --keep           keep the temporary copy and the logs
 *   --timeout-factor a check is stopped (the mutant counts as killed, "timeout") after this many times its
 *                    unmutated run time, at least 2 minutes; default 4
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { checks, mutants } from "./mutants.mjs"

const root = path.resolve(fileURLToPath(new URL("../..", import.meta.url)))

// ── arguments ──

const parseArgs = (argv) => {
  const o = {
    help: false,
    only: [],
    everyCheck: false,
    list: false,
    validate: false,
    typecheck: false,
    keep: false,
    timeoutFactor: 4
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const value = () => {
      const v = argv[++i]
      if (v === undefined) fail(`${a} needs a value`)
      return v
    }
    if (a === "--") continue
    else if (a === "--only")
      o.only.push(
        ...value()
          .split(",")
          .filter((s) => s !== "")
      )
    else if (a.startsWith("--only="))
      o.only.push(
        ...a
          .slice(7)
          .split(",")
          .filter((s) => s !== "")
      )
    else if (a === "--every-check") o.everyCheck = true
    else if (a === "--list") o.list = true
    else if (a === "--validate") o.validate = true
    else if (a === "--typecheck") o.typecheck = true
    else if (a === "--keep") o.keep = true
    else if (a === "--timeout-factor") o.timeoutFactor = Number(value())
    else if (a === "--help" || a === "-h") o.help = true
    else fail(`unknown argument ${a} (see --help)`)
  }
  if (!(o.timeoutFactor > 0)) fail("--timeout-factor must be a positive number")
  return o
}

/** Stops the run (exit code 2) after the copy is cleaned up. */
class Stop extends Error {}

function fail(message) {
  throw new Stop(message)
}

// ── the mutant list ──

/** A mutant's edits, whichever form it is written in. */
const editsOf = (m) => m.edits ?? [{ file: m.file, search: m.search, replace: m.replace }]

const checkDefinitions = () => {
  const problems = []
  const names = new Set()
  for (const m of mutants) {
    if (typeof m.name !== "string" || m.name === "") problems.push("a mutant has no name")
    if (names.has(m.name)) problems.push(`two mutants are named ${m.name}`)
    names.add(m.name)
    const edits = editsOf(m)
    if (edits.length === 0) problems.push(`${m.name}: no edit`)
    for (const e of edits) {
      if (typeof e.file !== "string" || typeof e.search !== "string" || typeof e.replace !== "string")
        problems.push(`${m.name}: an edit needs file, search and replace strings`)
      else if (e.search === e.replace) problems.push(`${m.name}: an edit replaces ${e.file}'s text with itself`)
    }
    if (!Array.isArray(m.checks) || m.checks.length === 0) problems.push(`${m.name}: no checks`)
    for (const c of m.checks ?? []) if (!(c in checks)) problems.push(`${m.name}: unknown check ${c}`)
  }
  for (const [name, c] of Object.entries(checks)) {
    if ((c.vitest === undefined) === (c.conformance === undefined))
      problems.push(`check ${name}: give exactly one of vitest or conformance`)
  }
  if (problems.length > 0) fail(`the mutant list is wrong:\n  ${problems.join("\n  ")}`)
}

const occurrences = (text, search) => {
  let n = 0
  for (let i = text.indexOf(search); i >= 0; i = text.indexOf(search, i + 1)) n++
  return n
}

/**
 * Every edit's search string must occur exactly once in its file (in `dir`), and the mutated file must still
 * parse (a mutant that cannot even load would be "killed" by any check and prove nothing); else the run stops.
 */
const validate = (dir, selected) => {
  const esbuild = createRequire(path.join(dir, "package.json"))("esbuild")
  const problems = []
  for (const m of selected) {
    const mutated = new Map()
    for (const e of editsOf(m)) {
      const file = path.join(dir, e.file)
      if (!fs.existsSync(file)) {
        problems.push(`${m.name}: ${e.file} does not exist`)
        continue
      }
      const text = mutated.get(e.file) ?? fs.readFileSync(file, "utf8")
      const n = occurrences(text, e.search)
      if (n !== 1)
        problems.push(
          `${m.name}: the search string occurs ${n} times in ${e.file} (must be exactly once): ${JSON.stringify(e.search.slice(0, 120))}`
        )
      else
        mutated.set(
          e.file,
          text.replace(e.search, () => e.replace)
        )
    }
    for (const [file, text] of mutated) {
      try {
        esbuild.transformSync(text, { loader: file.endsWith(".ts") ? "ts" : "js", sourcefile: file })
      } catch (error) {
        problems.push(`${m.name}: ${file} no longer parses: ${error.errors?.[0]?.text ?? error.message}`)
      }
    }
  }
  if (problems.length > 0) {
    fail(
      `the mutant list does not fit the code (move each mutant to where its bug would now be):\n  ${problems.join("\n  ")}`
    )
  }
}

// ── the copy ──

const run = (command, args, options = {}) => {
  const r = spawnSync(command, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, ...options })
  if (r.error) throw r.error
  return r
}

/** The working tree's files (tracked and untracked, not ignored) copied into a new temporary directory. */
const makeCopy = () => {
  const listed = run("git", ["-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"])
  if (listed.status !== 0) fail(`git ls-files failed: ${listed.stderr}`)
  // A tracked file deleted in the working tree is not copied (it is gone from what the developer has).
  const files = [...new Set(listed.stdout.split("\0"))].filter((f) => f !== "" && fs.existsSync(path.join(root, f)))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "posbridge-mutation-"))
  const tar = spawnSync("sh", ["-c", 'tar --null -T - -cf - | tar -xf - -C "$0"', dir], {
    cwd: root,
    input: files.join("\0"),
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024
  })
  if (tar.status !== 0) fail(`copying the working tree failed: ${tar.stderr}`)
  return { dir, files: files.length }
}

const install = (dir, logs) => {
  const log = path.join(logs, "install.log")
  const attempt = (args) => {
    const r = run("pnpm", ["install", "--frozen-lockfile", ...args], { cwd: dir, env: quietEnv() })
    fs.appendFileSync(log, `$ pnpm install --frozen-lockfile ${args.join(" ")}\n${r.stdout}${r.stderr}\n`)
    return r.status === 0
  }
  // Offline from pnpm's store (what the developer's own install filled); the registry only if that falls short.
  if (attempt(["--offline"]) || attempt(["--prefer-offline"])) return
  fail(`pnpm install in the copy failed; see ${log}`)
}

const quietEnv = () => ({
  ...process.env,
  NO_COLOR: "1",
  FORCE_COLOR: "0",
  TURBO_TELEMETRY_DISABLED: "1",
  TURBO_UI: "false"
})

// ── checks ──

/** What vitest's global setup builds: the server and every package it uses, adapters included (turbo-cached). */
const build = {
  command: "node_modules/.bin/turbo",
  args: ["run", "build", "--filter=@posbridge/server...", "--output-logs=errors-only"]
}

/** The commands of a check, run one after the other. */
const stepsOf = (check) =>
  check.vitest !== undefined
    ? [
        {
          command: "node_modules/.bin/vitest",
          args: [
            "run",
            // The root configuration's global setup builds every package: only for a check that needs the build.
            ...(check.build === true ? [] : ["--config", "tooling/mutation/vitest.config.ts"]),
            ...check.vitest,
            ...(check.testNamePattern === undefined ? [] : ["--testNamePattern", check.testNamePattern])
          ]
        }
      ]
    : [
        ...(check.build === true ? [build] : []),
        { command: "pnpm", args: ["--silent", "conformance", ...check.conformance] }
      ]

/** How many tests (vitest) or cases (conformance) passed, from the runner's closing line. */
const passedCount = (check, output) => {
  const m =
    check.vitest !== undefined
      ? /^\s*Tests\s+(?:\d+ failed \| )?(\d+) passed/m.exec(output)
      : /^(\d+) passed, \d+ failed$/m.exec(output)
  return m === null ? 0 : Number(m[1])
}

/** A line that says what failed: the first failed test or conformance case, and the error under it. */
const evidenceOf = (check, output) => {
  const lines = output.split("\n").map((l) => l.trimEnd())
  if (check.conformance !== undefined) {
    const i = lines.findIndex((l) => l.startsWith("FAIL "))
    if (i >= 0) return lines[i].slice(5)
    const missed = lines.find((l) => /"missed":[1-9]/.test(l))
    if (missed !== undefined) return missed
  } else {
    const i = lines.findIndex((l) => /^\s*FAIL\s/.test(l) && l.includes(">"))
    if (i >= 0) {
      const test = lines[i].replace(/^\s*FAIL\s+/, "")
      const error = lines
        .slice(i + 1, i + 30)
        .find((l) => /\S/.test(l) && !/^[\s⎯-]*$/.test(l) && !/^\s*FAIL\s/.test(l))
      return error === undefined ? test : `${test}: ${error.trim()}`
    }
    const file = lines.find((l) => /^\s*FAIL\s/.test(l))
    if (file !== undefined) return file.trim()
  }
  const last = lines.filter((l) => /\S/.test(l)).slice(-3)
  return last.join(" / ")
}

let current // the running check, killed with its process group on Ctrl-C

/** Runs one command with its output appended to `out`; resolves with its exit code ("timeout" when stopped). */
const runStep = (dir, step, out, deadline) =>
  new Promise((resolve) => {
    fs.writeSync(out, `$ ${step.command} ${step.args.join(" ")}\n`)
    const child = spawn(step.command, step.args, {
      cwd: dir,
      env: quietEnv(),
      stdio: ["ignore", out, out],
      detached: true
    })
    current = child
    let timedOut = false
    const timer = setTimeout(
      () => {
        timedOut = true
        killGroup(child)
      },
      Math.max(0, deadline - Date.now())
    )
    child.on("close", (code) => {
      clearTimeout(timer)
      current = undefined
      resolve(timedOut ? "timeout" : code)
    })
  })

/** Runs one check in `dir`; resolves with its outcome. A check past `timeoutMs` is stopped with its children. */
const runCheck = async (dir, name, logFile, timeoutMs) => {
  const check = checks[name]
  const started = Date.now()
  const out = fs.openSync(logFile, "w")
  let code = 0
  try {
    for (const step of stepsOf(check)) {
      code = await runStep(dir, step, out, started + timeoutMs)
      if (code !== 0) break
    }
  } finally {
    fs.closeSync(out)
  }
  const output = fs.readFileSync(logFile, "utf8")
  const seconds = (Date.now() - started) / 1000
  if (code === "timeout") {
    return { name, passed: false, timedOut: true, seconds, evidence: `timed out after ${Math.round(seconds)} s` }
  }
  return {
    name,
    passed: code === 0,
    timedOut: false,
    seconds,
    count: passedCount(check, output),
    evidence: code === 0 ? "" : evidenceOf(check, output)
  }
}

const killGroup = (child) => {
  try {
    process.kill(-child.pid, "SIGKILL")
  } catch {
    // already gone
  }
}

// ── mutants ──

/** Applies a mutant's edits in the copy; returns what puts the files back. */
const apply = (dir, m) => {
  const originals = new Map()
  for (const e of editsOf(m)) {
    const file = path.join(dir, e.file)
    const text = fs.readFileSync(file, "utf8")
    if (!originals.has(file)) originals.set(file, text)
    fs.writeFileSync(
      file,
      text.replace(e.search, () => e.replace)
    )
  }
  return () => {
    for (const [file, text] of originals) fs.writeFileSync(file, text)
  }
}

/** `--typecheck`: each mutant's edited packages typechecked with the mutant in place. */
const typecheck = (dir, logs, selected) => {
  let failed = 0
  for (const m of selected) {
    const packages = [...new Set(editsOf(m).map((e) => e.file.split("/").slice(0, 2).join("/")))]
    const restore = apply(dir, m)
    try {
      const errors = packages.flatMap((p) => {
        const r = run("node_modules/.bin/tsc", ["--noEmit", "-p", `${p}/tsconfig.json`], { cwd: dir })
        fs.writeFileSync(path.join(logs, `${m.name}-tsc.log`), r.stdout + r.stderr)
        return r.status === 0 ? [] : r.stdout.split("\n").filter((l) => l.includes("error TS"))
      })
      if (errors.length > 0) failed++
      console.log(
        `${m.name}: ${errors.length === 0 ? "typechecks" : `TYPE ERRORS\n  ${errors.slice(0, 5).join("\n  ")}`}`
      )
    } finally {
      restore()
    }
  }
  console.log(`mutation: ${selected.length - failed} of ${selected.length} mutants typecheck`)
  return failed === 0 ? 0 : 1
}

const fmt = (seconds) => {
  const s = Math.round(seconds)
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`
}

const table = (header, rows) => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)))
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(" | ")} |`
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)].join("\n")
}

const main = async () => {
  const o = parseArgs(process.argv.slice(2))
  if (o.help) {
    const doc = fs.readFileSync(fileURLToPath(import.meta.url), "utf8").split(" */")[0]
    console.log(doc.replace(/^\/\*\*\n/, "").replace(/^ \* ?/gm, ""))
    return 0
  }
  checkDefinitions()
  const unknown = o.only.filter((n) => !mutants.some((m) => m.name === n))
  if (unknown.length > 0) fail(`no mutant named ${unknown.join(", ")}; --list shows them`)
  const selected = o.only.length === 0 ? mutants : mutants.filter((m) => o.only.includes(m.name))

  if (o.list) {
    console.log(
      table(
        ["mutant", "where", "bug", "checks"],
        selected.map((m) => [m.name, m.area, m.bug, m.checks.join(", ")])
      )
    )
    return 0
  }
  if (o.validate) {
    validate(root, selected)
    console.log(`mutation: all ${selected.length} mutants' search strings occur exactly once in the working tree`)
    return 0
  }

  const t0 = Date.now()
  const { dir, files } = makeCopy()
  const logs = path.join(dir, ".mutation-logs")
  fs.mkdirSync(logs)
  const cleanup = () => {
    if (current) killGroup(current)
    if (!o.keep) fs.rmSync(dir, { recursive: true, force: true })
  }
  process.on("SIGINT", () => {
    cleanup()
    process.exit(130)
  })
  try {
    console.log(`mutation: copied ${files} files to ${dir}; installing from pnpm's store`)
    install(dir, logs)
    validate(dir, selected)
    const setupSeconds = (Date.now() - t0) / 1000
    if (o.typecheck) return typecheck(dir, logs, selected)

    // The unmutated code must pass every check the run uses, and each check must run something.
    const used = [...new Set(selected.flatMap((m) => m.checks))]
    const baseline = new Map()
    const t1 = Date.now()
    for (const name of used) {
      const log = path.join(logs, `baseline-${name}.log`)
      const r = await runCheck(dir, name, log, 30 * 60_000)
      console.log(
        `baseline ${name}: ${r.passed ? "passed" : "FAILED"} (${fmt(r.seconds)}${r.passed ? `, ${r.count} passed` : ""})`
      )
      if (!r.passed || r.count === 0) {
        const tail = fs.readFileSync(log, "utf8").split("\n").slice(-40).join("\n")
        o.keep = true
        fail(
          `the unmutated code does not pass check ${name}${r.passed ? " (it ran no test)" : ""}: fix that first.\n${tail}\nlogs: ${logs}`
        )
      }
      baseline.set(name, r.seconds)
    }
    const baselineSeconds = (Date.now() - t1) / 1000

    const results = []
    for (const [i, m] of selected.entries()) {
      const started = Date.now()
      const restore = apply(dir, m)
      const runs = []
      try {
        for (const name of m.checks) {
          const timeoutMs = Math.max(120_000, baseline.get(name) * 1000 * o.timeoutFactor)
          const r = await runCheck(dir, name, path.join(logs, `${m.name}-${name}.log`), timeoutMs)
          runs.push(r)
          if (!r.passed && !o.everyCheck) break
        }
      } finally {
        restore()
      }
      const killers = runs.filter((r) => !r.passed)
      const result = { mutant: m, runs, killers, seconds: (Date.now() - started) / 1000 }
      results.push(result)
      const verdict = killers.length > 0 ? `killed by ${killers.map((k) => k.name).join(", ")}` : "SURVIVED"
      console.log(`[${i + 1}/${selected.length}] ${m.name}: ${verdict} (${fmt(result.seconds)})`)
    }

    const survivors = results.filter((r) => r.killers.length === 0)
    console.log("")
    console.log(
      table(
        o.everyCheck
          ? ["mutant", "where", "result", "killed by", "missed by", "time"]
          : ["mutant", "where", "result", "killed by", "time"],
        results.map((r) => {
          const killed = r.killers.length > 0
          const row = [
            r.mutant.name,
            r.mutant.area,
            killed ? (r.killers.every((k) => k.timedOut) ? "killed (timeout)" : "killed") : "**survived**",
            killed ? r.killers.map((k) => k.name).join(", ") : "—"
          ]
          if (o.everyCheck)
            row.push(
              r.runs
                .filter((x) => x.passed)
                .map((x) => x.name)
                .join(", ") || "—"
            )
          row.push(fmt(r.seconds))
          return row
        })
      )
    )
    console.log("")
    console.log(`What failed (${o.everyCheck ? "each check" : "the first check"} that killed each mutant):`)
    for (const r of results) {
      for (const k of o.everyCheck ? r.killers : r.killers.slice(0, 1))
        console.log(`- ${r.mutant.name} — ${k.name}: ${k.evidence.slice(0, 300)}`)
    }
    if (survivors.length > 0) {
      console.log("")
      console.log("Survivors (every check passed with the bug in place):")
      for (const r of survivors)
        console.log(`- ${r.mutant.name}: ${r.mutant.bug} (checks: ${r.mutant.checks.join(", ")})`)
    }
    const total = (Date.now() - t0) / 1000
    console.log("")
    console.log(
      `mutation: ${results.length} mutants, ${results.length - survivors.length} killed, ${survivors.length} survived` +
        ` in ${fmt(total)} (copy and install ${fmt(setupSeconds)}, unmutated checks ${fmt(baselineSeconds)}, mutants ${fmt(total - setupSeconds - baselineSeconds)}; ${os.cpus().length} cores)`
    )
    if (o.keep) console.log(`mutation: the copy and its logs are kept in ${dir}`)
    return survivors.length === 0 ? 0 : 1
  } finally {
    cleanup()
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Stop ? `mutation: ${error.message}` : error)
    process.exit(2)
  }
)
