export { buildDsn, type DsnAction, type DsnInput, type DsnRecipient } from "./build.ts";
export { isAutomatedMessage } from "./automated.ts";
