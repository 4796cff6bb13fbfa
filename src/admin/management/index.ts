/** The management API, Prometheus metrics and their OpenAPI description (docs/MANAGEMENT.md). */
export { type ManagementApi, type ManagementContext, METRICS_PATH, managementApi } from './management.js';
export { type MessageJson, messageToJson, parseSendRequest } from './message-json.js';
export { type BrokerMetrics, createMetrics, type MetricsContext } from './metrics.js';
export { adminOpenApiPaths } from './openapi-paths.js';
export { ADMIN_PREFIX, matchRoute, ROUTES } from './router.js';
export { packageVersion } from './version.js';
