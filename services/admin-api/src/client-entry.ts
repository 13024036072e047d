// The client and the response types without the server (fastify): what a CLI needs to load.
export { AdminApiClient, AdminApiError, type AdminApiClientOptions } from "./client.ts";
export { domainView, accountView, aliasView, type DomainView, type AccountView, type AliasView } from "./views.ts";
export type { QueueRecipientView, QueueMessageView, QueueSummaryView } from "./views.ts";
