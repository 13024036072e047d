import { z } from "zod";

/** Reusable field types for environment variables (all arrive as strings). */
export const port = (fallback: number) =>
  z.coerce.number({ message: "must be a port number" }).int("must be a whole number").min(0).max(65535, "must be at most 65535").default(fallback);

export const positiveInt = (fallback: number) =>
  z.coerce.number({ message: "must be a number" }).int("must be a whole number").positive("must be positive").default(fallback);

export const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
    .transform((v) => v === "true" || v === "1" || v === "yes")
    .default(fallback);

export const url = () => z.string().url("must be a URL");

/** Comma-separated list, e.g. `host1:9092,host2:9092`. */
export const list = () =>
  z.string().transform((v) =>
    v
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );

export const logLevel = () =>
  z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], { message: "must be a pino level (info, debug, …)" }).default("info");
