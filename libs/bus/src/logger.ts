type LogFn = (obj: object, msg?: string) => void;

/** The subset of a pino logger the bus writes to; a pino `Logger` satisfies it. */
export interface BusLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

/** Used when no logger is given: warnings and errors as JSON lines on stderr, the rest dropped. */
export const stderrLogger: BusLogger = {
  debug: () => {},
  info: () => {},
  warn: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: "warn", msg, ...obj })}\n`),
  error: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: "error", msg, ...obj })}\n`),
};

export function errorFields(err: unknown): { err: { name?: string; message: string; stack?: string } } {
  if (err instanceof Error) return { err: { name: err.name, message: err.message, stack: err.stack } };
  return { err: { message: String(err) } };
}
