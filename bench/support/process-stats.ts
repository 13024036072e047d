import { readdirSync, readFileSync } from "node:fs";

export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** User + system CPU time of a process so far, in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** The highest resident set size the process has had, in MB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return round(kb / 1024);
}

/**
 * User + system CPU time, in ms, of a process and every descendant: the live ones and, through
 * the kernel's cutime/cstime, the exited ones it waited for (PostgreSQL's backends).
 */
export function treeCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]); // utime stime cutime cstime
  let ms = (ticks * 1000) / 100;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    let children: string[] = [];
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").split(" ").filter(Boolean);
    } catch {
      continue; // the thread ended meanwhile
    }
    for (const child of children) {
      try {
        ms += treeCpuMs(Number(child));
      } catch {
        // the child exited meanwhile: its time is in our cutime once reaped
      }
    }
  }
  return ms;
}

/** The PIDs of the local infrastructure of deploy/local/infra.sh (PostgreSQL's postmaster, Kafka, MinIO). */
export function infraPids(runDir: string): Record<string, number> {
  const postmaster = Number(readFileSync(`${runDir}/postgres/data/postmaster.pid`, "utf8").split("\n")[0]);
  const pidFile = (name: string) => Number(readFileSync(`${runDir}/${name}.pid`, "utf8").trim());
  return { postgresql: postmaster, kafka: pidFile("kafka"), minio: pidFile("minio") };
}
