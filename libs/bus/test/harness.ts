import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Bus } from "../src/index.ts";
import type { ChildBusConfig } from "./fixtures/child-config.ts";

/** One implementation of the Bus under the contract suite. */
export interface BusHarness {
  name: string;
  /** False for PGlite: only one process may open its data directory at a time. */
  multiProcess: boolean;
  /** How long a killed member keeps its partitions before the group gives them to others. */
  sessionTimeoutMs: number;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A new bus client on the shared log (several calls: several independent clients). */
  open(): Promise<Bus>;
  /** Closes every bus opened so far. */
  closeAll(): Promise<void>;
  /** Lets a child process open the log: closes everything this process holds open on it. */
  handOver(): Promise<void>;
  /** Opens the log in this process again after handOver (the child has exited). */
  takeBack(): Promise<void>;
  /** How a child process opens the same log. */
  childConfig(): ChildBusConfig;
}

const CHILD_SCRIPT = fileURLToPath(new URL("./fixtures/bus-child.ts", import.meta.url));
// Resolved here, so the child starts whatever the working directory of the test run is.
const TSX = import.meta.resolve("tsx");

export interface ChildEvent {
  event: string;
  [field: string]: unknown;
}

/** A child process running test/fixtures/bus-child.ts; its stdout is one JSON event a line. */
export class BusChild {
  readonly events: ChildEvent[] = [];
  readonly exited: Promise<number | string | null>;
  private readonly proc: ChildProcess;
  private stderr = "";

  constructor(args: Record<string, unknown>) {
    this.proc = spawn(process.execPath, ["--import", TSX, CHILD_SCRIPT, JSON.stringify(args)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    createInterface({ input: this.proc.stdout! }).on("line", (line) => {
      try {
        this.events.push(JSON.parse(line) as ChildEvent);
      } catch {
        this.stderr += `${line}\n`;
      }
    });
    this.proc.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.proc.on("exit", (code, signal) => resolve(code ?? signal)));
  }

  async waitFor(predicate: (e: ChildEvent) => boolean, what: string, timeoutMs = 30_000): Promise<ChildEvent> {
    let exitedEarly = false;
    void this.exited.then(() => (exitedEarly = true));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(predicate);
      if (found) return found;
      if (exitedEarly) throw new Error(`child exited before ${what}; stderr:\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for the child: ${what}; stderr:\n${this.stderr}`);
      await sleep(20);
    }
  }

  /** kill -9, then wait until the process is gone. */
  async kill9(): Promise<void> {
    this.proc.kill("SIGKILL");
    await this.exited;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}
