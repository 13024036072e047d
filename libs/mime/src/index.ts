export type { Disposition, Envelope, ImapAddress, MessageStructure, MimePart, SearchFields } from "./types.ts";
export { parseMessage, parseMessageBuffer, type MessageSource } from "./parse-message.ts";
export { StructureParser, HEADER_LIMIT } from "./structure-parser.ts";
export { headerFieldsOf, headerMap, headerText, fieldValue, selectHeaderFields, type HeaderField } from "./header-block.ts";
export { parseStructuredValue, decodedParam, decodeWords, stripComments, type StructuredValue } from "./content-header.ts";
export { envelopeOf, imapAddresses } from "./envelope.ts";
export { searchFieldsOf, addressText } from "./search-fields.ts";
export { parseMailDate } from "./mail-date.ts";
export { findPart, allParts } from "./find-part.ts";
