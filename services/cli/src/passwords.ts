import { randomBytes } from "node:crypto";
import { CliError } from "./errors.ts";

/** 24 URL-safe characters: 144 random bits. */
export function generatePassword(): string {
  return randomBytes(18).toString("base64url");
}

/** The whole of stdin without its final line break (for `--password-stdin`). */
export async function readPasswordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
  if (!password) throw new CliError("no password on stdin");
  return password;
}

/** Asks on the terminal without echoing what is typed. */
export async function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding("utf8");
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = "";
      const onData = (chunk: string) => {
        for (const ch of chunk) {
          if (ch === "\r" || ch === "\n") {
            stdin.off("data", onData);
            process.stderr.write("\n");
            resolve(value);
            return;
          }
          if (ch === "\u0003") {
            stdin.off("data", onData);
            process.stderr.write("\n");
            reject(new CliError("cancelled"));
            return;
          }
          if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
          else value += ch;
        }
      };
      stdin.on("data", onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
}

export interface PasswordOptions {
  password?: string;
  passwordStdin?: boolean;
  generate?: boolean;
}

/**
 * The password the options ask for: given, read from stdin, generated (`generated: true`, so the
 * caller prints it once), or typed twice on a terminal when `interactive` and nothing was given.
 */
export async function choosePassword(options: PasswordOptions, fallback: "generate" | "prompt"): Promise<{ password: string; generated: boolean }> {
  const given = [options.password !== undefined, options.passwordStdin === true, options.generate === true].filter(Boolean).length;
  if (given > 1) throw new CliError("use only one of --password, --password-stdin and --generate");
  if (options.password !== undefined) return { password: options.password, generated: false };
  if (options.passwordStdin) return { password: await readPasswordFromStdin(), generated: false };
  if (options.generate || fallback === "generate") return { password: generatePassword(), generated: true };
  if (!process.stdin.isTTY) throw new CliError("no password given: use --password-stdin, --password or --generate");
  const first = await promptHidden("New password: ");
  const second = await promptHidden("Repeat it: ");
  if (first !== second) throw new CliError("the passwords do not match");
  return { password: first, generated: false };
}
