export { inboundMxService, createInboundMxService, startInboundMx, type InboundMxOptions } from "./service.ts";
export { mxSchema, parseMxSettings, type MxSettings } from "./settings.ts";
export { acceptAllPolicy, type SessionPolicy, type Rejection } from "./policy.ts";
