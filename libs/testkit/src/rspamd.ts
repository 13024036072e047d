import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.ts";

export interface RspamdOptions {
  /** Its DNS resolver (`host:port`). Default: a loopback port nothing answers, so every lookup fails fast. */
  dns?: string;
  /** Extra lines for `options { }` (override.d/options.inc). */
  options?: string;
}

export interface RspamdInstance {
  /** Base URL of the normal worker, e.g. `http://127.0.0.1:40123`. */
  url: string;
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Lua plugins that reach out to the network (DNS lists, URL maps, HTTP feeds, Redis) or need
 * services we do not run: all disabled, so a test instance talks to nothing but its clients.
 * GTUBE, the regexp rules, MIME and header checks stay on.
 */
const NETWORK_PLUGINS = [
  "antivirus", "arc", "asn", "aws_s3", "bimi", "clickhouse", "clustering", "dcc", "dkim_signing", "dmarc", "dynamic_conf",
  "elastic", "emails", "external_relay", "external_services", "fuzzy_collect", "greylist", "hfilter", "history_redis", "ip_score",
  "metadata_exporter", "metric_exporter", "multimap", "mx_check", "neural", "p0f", "phishing", "ratelimit", "rbl", "replies",
  "reputation", "rspamd_update", "spamassassin", "spamtrap", "spf", "surbl", "trie", "url_redirector", "whitelist", "bayes_expiry",
  "maps_stats", "milter_headers", "mime_types", "mid",
];

/**
 * A private Rspamd from Debian's package on loopback: Debian's stock rules (CONFDIR=/etc/rspamd)
 * with its own local config, run, db and log directories under a temp directory, only the normal
 * worker (no controller, no proxy, no fuzzy), every network-using module off (DNS lists, URL maps,
 * fuzzy hashes, DKIM/SPF/DMARC, Redis users), and its resolver on a loopback port. It never
 * contacts a non-loopback address.
 */
export async function startRspamd(options: RspamdOptions = {}): Promise<RspamdInstance> {
  if (!existsSync("/usr/bin/rspamd")) throw new Error("Rspamd is not installed: run deploy/local/tools.sh");
  const dir = mkdtempSync(join(tmpdir(), "postline-rspamd-"));
  const local = join(dir, "local");
  for (const d of ["run", "db", "log", join("local", "local.d"), join("local", "override.d")]) mkdirSync(join(dir, d), { recursive: true });
  const port = await freePort();
  const dns = options.dns ?? `127.0.0.1:${await freePort()}`;

  // Rspamd compiles its public-suffix list at start (seconds of CPU for 9600 entries); the top-level
  // domains alone are enough to find URLs in test messages.
  const tlds = readFileSync("/usr/share/rspamd/effective_tld_names.dat", "utf8")
    .split("\n")
    .filter((l) => l && !l.startsWith("//") && !l.includes("."));
  writeFileSync(join(dir, "tlds.dat"), `${[...tlds, "test", "invalid", "example", "localhost"].join("\n")}\n`);
  for (const plugin of NETWORK_PLUGINS) writeFileSync(join(local, "override.d", `${plugin}.conf`), "enabled = false;\n");
  // The C modules: fuzzy_check and dkim out (fuzzy storage, DNS keys); regexp and chartable stay.
  writeFileSync(
    join(local, "override.d", "options.inc"),
    [
      'filters = "chartable,regexp";',
      `dns { nameserver = ["${dns}"]; timeout = 0.3s; retransmits = 1; sockets = 1; }`,
      "map_watch_interval = 24h;",
      `url_tld = "${join(dir, "tlds.dat")}";`,
      `tempdir = "${join(dir, "run")}";`,
      options.options ?? "",
    ].join("\n"),
  );
  // No statistics (Bayes would want Redis).
  writeFileSync(join(local, "override.d", "statistic.conf"), "classifier {}\n");
  const conf = join(dir, "rspamd.conf");
  writeFileSync(
    conf,
    `.include "$CONFDIR/common.conf"
options {
  pidfile = "$RUNDIR/rspamd.pid";
  .include "$CONFDIR/options.inc"
  .include(try=true; priority=10) "$LOCAL_CONFDIR/override.d/options.inc"
}
logging {
  type = "file";
  filename = "$LOGDIR/rspamd.log";
  level = "info";
}
worker "normal" {
  bind_socket = "127.0.0.1:${port}";
  .include "$CONFDIR/worker-normal.inc"
  count = 1;
}
`,
  );
  const vars = { CONFDIR: "/etc/rspamd", LOCAL_CONFDIR: local, RUNDIR: join(dir, "run"), DBDIR: join(dir, "db"), LOGDIR: join(dir, "log") };
  const args = ["-f", "-c", conf, ...Object.entries(vars).map(([k, v]) => `--var=${k}=${v}`)];
  if (process.getuid?.() === 0) args.push("-i"); // as root: run the workers as root too (temp dirs are ours)
  const child: ChildProcess = spawn("/usr/bin/rspamd", args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  // A test process that ends without stop() must not leave Rspamd running (it stops its workers on SIGTERM).
  const onExit = () => child.kill("SIGTERM");
  process.once("exit", onExit);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      process.off("exit", onExit);
      resolve();
    }),
  );
  const logFile = join(dir, "log", "rspamd.log");
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  const url = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`rspamd exited (${child.exitCode}):\n${output}\n${log().slice(-3000)}`);
    }
    try {
      const r = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`rspamd did not answer /ping within 60 s:\n${output}\n${log().slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    url,
    dir,
    log,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The GTUBE test string, which Rspamd (like SpamAssassin) always scores as spam. */
const GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

/** A message from alice@sender.test to bob@example.test: an ordinary one, or one carrying the GTUBE. */
export function rspamdTestMessage(kind: "plain" | "gtube"): Buffer {
  const [subject, body] =
    kind === "gtube"
      ? ["Test spam", `This is the GTUBE:\r\n${GTUBE}\r\n`]
      : ["Minutes of the meeting", "Hello Bob,\r\n\r\nattached are the minutes of Tuesday's meeting.\r\n\r\nAlice"];
  return Buffer.from(
    [
      "From: Alice <alice@sender.test>",
      "To: bob@example.test",
      `Subject: ${subject}`,
      "Date: Tue, 10 Mar 2026 10:00:00 +0000",
      `Message-ID: <${Math.random().toString(36).slice(2)}@sender.test>`,
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "",
      body,
      "",
    ].join("\r\n"),
  );
}
