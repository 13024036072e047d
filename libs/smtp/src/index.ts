export { SmtpReply, ENHANCED_PREFIX } from "./reply.ts";
