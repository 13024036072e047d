import { connect } from "node:net";

export interface SmtpReply {
  code: number;
  text: string;
}

export interface SmtpTransaction {
  /** The replies in order: greeting, EHLO, MAIL, each RCPT, DATA, end of data. */
  replies: SmtpReply[];
  /** The last reply: the end-of-data reply when the transaction got that far, else the refusal. */
  final: SmtpReply;
  /** The queue id of a `250 … queued as ID` reply. */
  queueId?: string;
}

/**
 * One plain SMTP transaction on a new connection, step by step (no pipelining), stopping at the
 * first 4xx/5xx reply. For tests and benchmarks that need the exact reply of each stage.
 */
export function smtpTransaction(port: number, mail: { from: string; to: string[]; data: string | Buffer; helo?: string }, host = "127.0.0.1"): Promise<SmtpTransaction> {
  const data = Buffer.isBuffer(mail.data) ? mail.data.toString("latin1") : mail.data;
  // Dot-stuffing and the terminating line.
  const body = `${data.replace(/\r?\n/g, "\r\n").replace(/^\./gm, "..")}${data.endsWith("\n") ? "" : "\r\n"}.`;
  const commands = [`EHLO ${mail.helo ?? "client.example.net"}`, `MAIL FROM:<${mail.from}>`, ...mail.to.map((r) => `RCPT TO:<${r}>`), "DATA", body];
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    const replies: SmtpReply[] = [];
    let buffer = "";
    let lines: string[] = [];
    const finish = () => {
      socket.end("QUIT\r\n");
      const final = replies[replies.length - 1]!;
      resolve({ replies, final, queueId: /queued as (\S+)/.exec(final.text)?.[1] });
    };
    socket.setEncoding("latin1");
    socket.setTimeout(60_000, () => {
      socket.destroy();
      reject(new Error(`SMTP timeout after ${JSON.stringify(replies)}`));
    });
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      let i: number;
      while ((i = buffer.indexOf("\r\n")) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        lines.push(line.slice(4));
        if (line[3] === "-") continue;
        const reply = { code: Number(line.slice(0, 3)), text: lines.join("\n") };
        lines = [];
        replies.push(reply);
        const next = commands[replies.length - 1];
        if (reply.code >= 400 || next === undefined) return finish();
        socket.write(`${next}\r\n`, "latin1");
      }
    });
    socket.on("error", (err) => (replies.length ? resolve({ replies, final: { code: 0, text: err.message } }) : reject(err)));
    socket.on("close", () => {
      if (replies.length && replies.length <= commands.length && replies[replies.length - 1]!.code < 400) {
        resolve({ replies, final: { code: 0, text: "connection closed" } });
      }
    });
  });
}

/** A small RFC 5322 message. */
export function simpleMessage(fields: { from: string; to: string; subject: string; body?: string; headers?: Record<string, string> }): string {
  const headers = {
    From: fields.from,
    To: fields.to,
    Subject: fields.subject,
    Date: new Date().toUTCString(),
    "Message-ID": `<${Math.random().toString(36).slice(2)}@test.example>`,
    ...fields.headers,
  };
  return `${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join("\r\n")}\r\n\r\n${fields.body ?? "Hello.\r\n"}`;
}
