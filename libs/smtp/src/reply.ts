/**
 * An SMTP refusal as smtp-server expects it from a handler: an Error with `responseCode`. The
 * enhanced status code (RFC 3463) leads the message, and the services' smtp-server connection
 * subclasses (inbound-mx, submission) send it as given instead of smtp-server's guess from the basic code.
 */
export class SmtpReply extends Error {
  readonly responseCode: number;
  constructor(
    code: number,
    readonly enhanced: string,
    text: string,
    /** Why, for metrics and logs (e.g. "unknown_user", "sender_not_owned"). */
    readonly reason: string,
  ) {
    super(`${enhanced} ${text}`);
    this.name = "SmtpReply";
    this.responseCode = code;
  }
}

/** A reply text that starts with its own enhanced status code, e.g. "5.1.1 No such user". */
export const ENHANCED_PREFIX = /^[245]\.\d{1,3}\.\d{1,3} /;
