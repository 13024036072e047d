import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { Resolver } from "node:dns/promises";
import { createServer } from "node:net";
import { createSocket } from "node:dgram";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Test zones served by the loopback DNS server. Names are absolute without the trailing dot.
 * Everything not listed answers NXDOMAIN (or NODATA for a known name): nothing is forwarded.
 */
export interface DnsZones {
  /** A/AAAA records that also publish the matching PTR (forward-confirmed reverse DNS). */
  hosts?: Record<string, string | string[]>;
  /** A/AAAA records without PTR, e.g. DNSBL entries (`2.0.0.127.zen.test` → `127.0.0.2`). Also answer for subdomains. */
  addresses?: Record<string, string | string[]>;
  /** TXT records: each value one record; records longer than 255 bytes are split into character-strings. */
  txt?: Record<string, string | string[]>;
  /** MX records: exchange host names, or `{ host, preference }`. */
  mx?: Record<string, string | Array<string | { host: string; preference: number }>>;
  /** PTR records by address (`127.0.0.3` → `host.example.test`), without the matching A record. */
  ptr?: Record<string, string>;
  cname?: Record<string, string>;
}

export interface DnsServer {
  /** `127.0.0.1:PORT`, as POSTLINE_DNS_SERVERS takes it. */
  address: string;
  port: number;
  stop(): Promise<void>;
}

const DNSMASQ = process.env.POSTLINE_DNSMASQ ?? "/usr/sbin/dnsmasq";

/**
 * Runs the real dnsmasq on a free loopback port, authoritative for the given zones only.
 * Used for SPF/DKIM/DMARC/DNSBL tests and by end-to-end tests for MX/A records pointing to 127.0.0.1.
 */
export async function startDnsServer(zones: DnsZones): Promise<DnsServer> {
  const dir = await mkdtemp(join(tmpdir(), "postline-dns-"));
  const confFile = join(dir, "dnsmasq.conf");
  await writeFile(confFile, dnsmasqConfig(zones));
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    try {
      const child = await spawnDnsmasq(port, confFile);
      return {
        address: `127.0.0.1:${port}`,
        port,
        stop: async () => {
          await stopChild(child);
          await rm(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      lastError = err; // most likely the port was taken in between: try another
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`dnsmasq did not start: ${String(lastError)}`);
}

/** The dnsmasq configuration for the zones (exported for tests of the generator). */
export function dnsmasqConfig(zones: DnsZones): string {
  // `local=/#/`: every name is answered from local data only, unknown ones with NXDOMAIN.
  const lines = ["local=/#/", "cache-size=0"];
  for (const [name, ips] of Object.entries(zones.hosts ?? {})) {
    for (const ip of list(ips)) lines.push(`host-record=${name},${ip}`);
  }
  for (const [name, ips] of Object.entries(zones.addresses ?? {})) {
    for (const ip of list(ips)) lines.push(`address=/${name}/${ip}`);
  }
  for (const [name, records] of Object.entries(zones.txt ?? {})) {
    for (const record of list(records)) lines.push(`txt-record=${name},${characterStrings(record).map(quote).join(",")}`);
  }
  for (const [name, exchanges] of Object.entries(zones.mx ?? {})) {
    list(exchanges).forEach((mx, i) => {
      const { host, preference } = typeof mx === "string" ? { host: mx, preference: 10 * (i + 1) } : mx;
      lines.push(`mx-host=${name},${host},${preference}`);
    });
  }
  for (const [ip, name] of Object.entries(zones.ptr ?? {})) lines.push(`ptr-record=${reversePointer(ip)},${name}`);
  for (const [name, target] of Object.entries(zones.cname ?? {})) lines.push(`cname=${name},${target}`);
  return lines.join("\n") + "\n";
}

function list<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/** A TXT record as character-strings of at most 255 bytes each (RFC 1035), e.g. a 2048-bit DKIM key. */
function characterStrings(record: string): string[] {
  const bytes = Buffer.from(record, "utf8");
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += 255) parts.push(bytes.subarray(i, i + 255).toString("utf8"));
  return parts.length > 0 ? parts : [""];
}

function quote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

function reversePointer(ip: string): string {
  if (ip.includes(":")) {
    const [head = "", tail] = ip.split("::");
    const h = head ? head.split(":") : [];
    const t = tail ? tail.split(":") : [];
    const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
    const nibbles = groups.map((g) => g.padStart(4, "0")).join("");
    return `${nibbles.split("").reverse().join(".")}.ip6.arpa`;
  }
  return `${ip.split(".").reverse().join(".")}.in-addr.arpa`;
}

/** A port free for both TCP and UDP on 127.0.0.1 (dnsmasq binds both). */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket("udp4");
      socket.once("error", () => resolve(false));
      socket.bind(port, "127.0.0.1", () => socket.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
}

async function spawnDnsmasq(port: number, confFile: string): Promise<ChildProcess> {
  const child = spawn(
    DNSMASQ,
    [
      "--no-daemon",
      `--port=${port}`,
      "--listen-address=127.0.0.1",
      "--bind-interfaces",
      "--no-resolv",
      "--no-hosts",
      "--no-poll",
      "--pid-file=",
      `--conf-file=${confFile}`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<never>((_, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`dnsmasq exited with ${code}: ${stderr.trim()}`)));
  });
  exited.catch(() => undefined);
  try {
    await Promise.race([waitUntilAnswering(port), exited]);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  return child;
}

/** Ready once a query gets a DNS answer (NXDOMAIN for a name not in the zones) instead of a refusal. */
async function waitUntilAnswering(port: number): Promise<void> {
  const resolver = new Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await resolver.resolve4("postline-dns-ready.invalid");
      return;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "ENOTFOUND" || code === "ENODATA") return;
      if (Date.now() > deadline) throw new Error(`dnsmasq on port ${port} not answering: ${code}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
