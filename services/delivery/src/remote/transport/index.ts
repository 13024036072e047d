export { RemoteTransport } from "./remote-transport.ts";
export { RouteResolver, DnsLookupError, type RouteResolverOptions } from "./route-resolver.ts";
export type { OutboundEnvelope, OutboundRecipient, RecipientOutcome, TransportSettings, Route, RouteHost } from "./types.ts";
