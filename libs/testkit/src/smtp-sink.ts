import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitForListener } from "./loopback.ts";
import { freePort } from "./ports.ts";

const SMTP_SINK = process.env.POSTLINE_SMTP_SINK ?? "/usr/sbin/smtp-sink";

// Every smtp-sink started here is killed when this process exits, so none outlives a crashed test.
const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

export interface SmtpSinkOptions {
  /** The loopback address it listens on (default 127.0.0.1). */
  address?: string;
  /** Default: a free port. */
  port?: number;
  /** Commands answered with a temporary error (`-r`), e.g. ["RCPT"] or ["."]: the reply is `softReply`. */
  softReject?: string[];
  /** Commands answered with a permanent error (`-f`), e.g. ["RCPT"] or ["."]: the reply is `hardReply`. */
  hardReject?: string[];
  /** Default "450 4.3.0 Error: command failed". */
  softReply?: string;
  /** Default "500 5.3.0 Error: command failed". */
  hardReply?: string;
  /** Greeting and EHLO name (default "smtp-sink"). */
  hostname?: string;
  /** Keep every transaction as a file (default true); off for throughput measurements. */
  capture?: boolean;
  /** Most sessions at once (default 256). */
  maxSessions?: number;
}

/** One transaction as smtp-sink captured it. */
export interface SinkMessage {
  file: string;
  /** When the capture file was last written (about when the final "." arrived). */
  mtimeMs: number;
  /** The MAIL FROM arguments, e.g. `<a@b> BODY=8BITMIME`. */
  mailArgs: string;
  /** The reverse path without brackets ("" for the null sender). */
  mailFrom: string;
  rcptTo: string[];
  /** The message as received, with CRLF line ends (smtp-sink stores LF; its own Received field is not included). */
  message: string;
}

export interface SmtpSink {
  address: string;
  port: number;
  /** Where the captured transactions are (one file each). */
  dir: string;
  /** Every completed transaction captured so far. */
  messages(): SinkMessage[];
  /** Stops it and starts it again on the same address and port with other answers (e.g. 4xx first, then 2xx). */
  reconfigure(options: Omit<SmtpSinkOptions, "address" | "port">): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Postfix's `smtp-sink` on a loopback address: a fast receiving MTA that accepts (or refuses, as
 * configured) every transaction and, unless `capture` is off, keeps each one as a file.
 */
export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  if (!existsSync(SMTP_SINK)) throw new Error("smtp-sink is not installed (Debian: postfix): run deploy/local/tools.sh");
  const address = options.address ?? "127.0.0.1";
  const port = options.port ?? (await freePort());
  const root = mkdtempSync(join(tmpdir(), "postline-smtp-sink-"));
  chmodSync(root, 0o755);
  const dir = join(root, "mail");
  mkdirSync(dir);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(dir, userId("nobody"), -1);
  let current: Omit<SmtpSinkOptions, "address" | "port"> = options;
  let child = await spawnSink(address, port, dir, current, asRoot);
  const sink: SmtpSink = {
    address,
    port,
    dir,
    messages: () => readCaptures(dir),
    async reconfigure(next) {
      await stopChild(child);
      current = { capture: current.capture, ...next };
      child = await spawnSink(address, port, dir, current, asRoot);
    },
    async stop() {
      await stopChild(child);
      rmSync(root, { recursive: true, force: true });
    },
  };
  return sink;
}

async function spawnSink(address: string, port: number, dir: string, o: Omit<SmtpSinkOptions, "address" | "port">, asRoot: boolean): Promise<ChildProcess> {
  const args: string[] = [];
  if (asRoot) args.push("-u", "nobody");
  if (o.hostname) args.push("-h", o.hostname);
  if (o.softReject?.length) args.push("-r", o.softReject.join(","));
  if (o.hardReject?.length) args.push("-f", o.hardReject.join(","));
  if (o.softReply) args.push("-b", o.softReply);
  if (o.hardReply) args.push("-B", o.hardReply);
  if (o.capture !== false) args.push("-d", `${dir}/m.`);
  args.push("-m", String(o.maxSessions ?? 256), "-4", `${address}:${port}`, "1024");
  let lastError: unknown;
  // The previous process may hold the port for a moment after it exited.
  for (let attempt = 0; attempt < 40; attempt++) {
    const child = spawn(SMTP_SINK, args, { stdio: ["ignore", "ignore", "pipe"] });
    children.add(child);
    child.once("exit", () => children.delete(child));
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const exited = new Promise<never>((_, reject) => {
      child.once("error", reject);
      child.once("exit", (code, signal) => reject(new Error(`smtp-sink exited (${code ?? signal}): ${stderr.trim()}`)));
    });
    exited.catch(() => undefined);
    try {
      await Promise.race([waitForListener(address, port), exited]);
      return child;
    } catch (err) {
      lastError = err;
      child.kill("SIGKILL");
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`smtp-sink did not start on ${address}:${port}: ${String(lastError)}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL"); // smtp-sink keeps nothing worth a graceful stop; captures are written before each reply
  });
}

function readCaptures(dir: string): SinkMessage[] {
  const out: SinkMessage[] = [];
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    const text = readFileSync(file, "latin1");
    const parsed = parseCapture(text);
    if (parsed) out.push({ file, mtimeMs: statSync(file).mtimeMs, ...parsed });
  }
  return out.sort((a, b) => a.mtimeMs - b.mtimeMs);
}

/** A capture: X-Client-Addr …, X-Mail-Args, X-Rcpt-Args…, smtp-sink's Received field, the message, an empty line. */
function parseCapture(text: string): Omit<SinkMessage, "file" | "mtimeMs"> | undefined {
  const lines = text.split("\n");
  let i = 0;
  let mailArgs = "";
  const rcptTo: string[] = [];
  for (; i < lines.length && !lines[i]!.startsWith("Received: "); i++) {
    const line = lines[i]!;
    if (line.startsWith("X-Mail-Args: ")) mailArgs = line.slice(13);
    else if (line.startsWith("X-Rcpt-Args: ")) rcptTo.push(/<([^>]*)>/.exec(line)?.[1] ?? line.slice(13));
  }
  if (i >= lines.length) return undefined; // still being written
  i++;
  while (i < lines.length && /^[ \t]/.test(lines[i]!)) i++;
  const body = lines.slice(i);
  // The trailing empty line smtp-sink adds, and the split's last empty string.
  while (body.length > 0 && body[body.length - 1] === "") body.pop();
  return {
    mailArgs,
    mailFrom: /<([^>]*)>/.exec(mailArgs)?.[1] ?? "",
    rcptTo,
    message: body.join("\r\n") + "\r\n",
  };
}

function userId(user: string): number {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no user ${user}`);
  return Number(line.split(":")[2]);
}
