export { imapPop3Service, createImapPop3Service, startImapPop3, type ImapPop3Options } from "./service.ts";
export { imapSchema, parseImapSettings, type ImapSettings } from "./settings.ts";
export { BusChangeNotifier } from "./imap/server/core/notifier.ts";
export { ImapServer } from "./imap/server/listener.ts";
