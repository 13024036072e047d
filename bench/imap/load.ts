import { RawImap, quote } from "../../test/e2e/support/raw-imap.ts";

/** One server under test, as the load generator sees it. */
export interface Target {
  name: string;
  port: number;
  user: string;
  password: string;
  /** The exact size of each message by UID, to check every body that comes back. */
  sizes: Map<number, number>;
}

export interface LoadResult {
  clients: number;
  seconds: number;
  sessions: number;
  bodies: number;
  sessionsPerS: number;
  fetchedPerS: number;
  p99Ms: number;
  p99FetchMs: number;
  p50FetchMs: number;
  errors: number;
  /** p50/p99 in ms of each step: connect, login, select, fetch_all (FETCH 1:*), body, logout. */
  steps: Record<string, { p50: number; p99: number }>;
}

const BODIES_PER_SESSION = 100;

/**
 * `clients` concurrent clients, each in a loop until `seconds` have passed: connect, LOGIN,
 * SELECT INBOX, FETCH 1:* (FLAGS ENVELOPE), UID FETCH n BODY.PEEK[] for 100 random UIDs, LOGOUT.
 * Every command's latency is recorded; the body fetches also on their own. A session that began
 * before the deadline runs to its end, and the rate is over the time until the last one ended.
 */
export async function runLoad(target: Target, clients: number, seconds: number, seed = 7): Promise<LoadResult> {
  const uids = [...target.sizes.keys()];
  const all: number[] = [];
  const fetches: number[] = [];
  const steps: Record<string, number[]> = { connect: [], login: [], select: [], fetch_all: [], body: [], logout: [] };
  const record = (step: string, ms: number) => {
    all.push(ms);
    steps[step]!.push(ms);
  };
  let sessions = 0;
  let bodies = 0;
  let errors = 0;
  let rnd = seed >>> 0;
  const random = () => {
    rnd = (Math.imul(rnd, 1_664_525) + 1_013_904_223) >>> 0;
    return rnd / 4294967296;
  };
  const started = Date.now();
  const deadline = started + seconds * 1000;
  const expect = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`${target.name}: ${what}`);
  };
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < deadline) {
        let c: RawImap | undefined;
        try {
          const t0 = Date.now();
          c = await RawImap.connect({ port: target.port, tls: "none" });
          record("connect", Date.now() - t0);
          const login = await c.command(`LOGIN ${quote(target.user)} ${quote(target.password)}`);
          expect(login.status === "OK", `LOGIN ${login.text}`);
          record("login", login.ms);
          const select = await c.command("SELECT INBOX");
          expect(select.status === "OK", `SELECT ${select.text}`);
          record("select", select.ms);
          const list = await c.command("FETCH 1:* (FLAGS ENVELOPE)");
          expect(list.status === "OK" && list.untagged.filter((u) => / FETCH /.test(u.text)).length === target.sizes.size, `FETCH 1:* ${list.text}: ${list.untagged.length} responses`);
          record("fetch_all", list.ms);
          for (let i = 0; i < BODIES_PER_SESSION; i++) {
            const uid = uids[Math.floor(random() * uids.length)]!;
            const body = await c.command(`UID FETCH ${uid} BODY.PEEK[]`);
            const literal = body.untagged.find((u) => / FETCH /.test(u.text))?.literals[0];
            expect(body.status === "OK" && literal?.length === target.sizes.get(uid), `UID FETCH ${uid}: ${body.text}, ${literal?.length} bytes`);
            record("body", body.ms);
            fetches.push(body.ms);
            bodies++;
          }
          const logout = await c.command("LOGOUT");
          record("logout", logout.ms);
          c.destroy();
          sessions++;
        } catch (err) {
          errors++;
          c?.destroy();
          if (errors > clients * 5) throw err;
          console.error(`[bench] ${(err as Error).message}`);
        }
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  return {
    clients,
    seconds: elapsed,
    sessions,
    bodies,
    sessionsPerS: sessions / elapsed,
    fetchedPerS: bodies / elapsed,
    p99Ms: percentile(all, 0.99),
    p99FetchMs: percentile(fetches, 0.99),
    p50FetchMs: percentile(fetches, 0.5),
    errors,
    steps: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, { p50: percentile(v, 0.5), p99: percentile(v, 0.99) }])),
  };
}

function percentile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
