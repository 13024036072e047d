import { runServices } from "@postline/platform";
import { imapPop3Service } from "./service.ts";

// IMAP and POP3 as their own process: one pod in cluster mode.
await runServices({ name: "imap-pop3", services: [imapPop3Service] });
