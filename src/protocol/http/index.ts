/**
 * HTTP messaging for BlazeMQ: the ActiveMQ-compatible REST API (`/api/message`), the /v1 JSON API with
 * bearer tokens and OpenAPI, Server-Sent Events (`/v1/stream`) and the browser script (`/js/blazemq.js`).
 * The broker mounts the handlers; the pure parts are exported for tools and tests.
 */
export {
  authenticate,
  authenticateRequest,
  type BearerTokens,
  type Credentials,
  createHttpAuthenticator,
  type HttpAuthenticator,
  type HttpAuthOptions,
  type IssuedToken,
  parseAuthorization,
  parseBasic,
  type StampingAuthenticator,
} from './auth.js';
export { browserScript, SCRIPT_PATH } from './browser-script.js';
export { HttpConsumer } from './consumer.js';
export { ConsumerRegistry } from './consumers.js';
export {
  type CorsConfig,
  type CorsDecision,
  type CorsPolicy,
  type CorsRequest,
  canonicalOrigin,
  corsDecision,
  corsMethods,
  corsPolicy,
  DEFAULT_CORS_CONFIG,
  upgradeOriginAllowed,
} from './cors.js';
export { corsHandler, upgradeOriginCheck } from './cors-handler.js';
export { CredentialCache, type CredentialCacheOptions } from './credential-cache.js';
export { errorBody, HttpError, toHttpError } from './errors.js';
export { messageHeaders, toMessageInit } from './mapping.js';
export { type HttpMessaging, type HttpMessagingContext, httpMessaging } from './messaging.js';
export {
  cookieValue,
  DEFAULT_HTTP_LIMITS,
  type HttpLimits,
  type MessageRequest,
  parseAddress,
  parseMessageRequest,
  SESSION_COOKIE,
} from './request.js';
export { encodeComment, encodeEvent, encodeRetry, type SseEvent } from './sse-codec.js';
export {
  parseStreamRequest,
  type SseEndpoint,
  type SseEndpointContext,
  sseEndpoint,
} from './sse-endpoint.js';
export { FeedStream, TopicFeeds } from './sse-feed.js';
export { messageEvent, type SseFormat } from './sse-format.js';
export { HistoryRing, type ResumePoint } from './sse-history.js';
export { type SseCloseReason, type SseOutput, SseStream, type SseStreamOptions } from './sse-stream.js';
export { type V1Api, type V1Context, v1Api } from './v1/api.js';
export { LeaseRegistry } from './v1/leases.js';
export { messageToJson, parseJsonText, parseMessageJson } from './v1/message-json.js';
export { openApiDocument } from './v1/openapi.js';
export { parseV1Request, V1_PATHS, type V1Route } from './v1/routes.js';
