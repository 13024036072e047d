export * from "./schemas.ts";
export { InvalidEvent, encodeEvent, decodeEvent, publishEvent, eventHandler } from "./codec.ts";
export { newMailId } from "./ids.ts";
