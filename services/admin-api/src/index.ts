export { buildAdminApi, type AdminApiOptions } from "./app.ts";
export { AdminApiClient, AdminApiError, type AdminApiClientOptions } from "./client.ts";
export { domainView, accountView, aliasView, type DomainView, type AccountView, type AliasView } from "./views.ts";
export type { QueueRecipientView, QueueMessageView, QueueSummaryView } from "./views.ts";
export { adminApiService } from "./service.ts";
