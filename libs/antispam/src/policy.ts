import type { AuthOutcome } from "./authenticate.ts";
import type { ContentView } from "./message.ts";
import type { RuleHit, Source } from "./rules/rule.ts";

/** One local account among a message's recipients (after alias resolution). */
export interface RecipientAccount {
  accountId: number;
  /** The envelope recipients that resolved to this account. */
  recipients: string[];
}

export interface AccountContext extends RecipientAccount {
  source: Source;
  client: { ip: string; helo: string };
  mailFrom: string;
  content: ContentView;
  auth: AuthOutcome | null;
}

/**
 * A check whose answer depends on the recipient account (its Bayes model, its allow and block
 * lists, the addresses it wrote to). Its hits are added to the message's own hits for that account
 * only, giving the account a verdict of its own.
 */
export interface AccountPolicy {
  name: string;
  check(ctx: AccountContext): RuleHit[] | Promise<RuleHit[]>;
}
