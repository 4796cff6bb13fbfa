/**
 * HTTP messaging for BlazeMQ: the ActiveMQ-compatible REST API (`/api/message`). The admin HTTP server
 * mounts `httpMessaging(ctx).handle`; the pure parts are exported for tools and tests.
 */
export { authenticate, parseBasic } from './auth.js';
export { HttpConsumer } from './consumer.js';
export { ConsumerRegistry } from './consumers.js';
export { HttpError, toHttpError } from './errors.js';
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
export { type SseCloseReason, type SseOutput, SseStream, type SseStreamOptions } from './sse-stream.js';
