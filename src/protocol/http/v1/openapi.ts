/**
 * `GET /v1/openapi.json`: the OpenAPI 3.1 description of the /v1 messaging API (routes.ts), the SSE stream
 * and the token endpoint, merged with the management API's paths (injected: admin/management/
 * openapi-paths.ts `adminOpenApiPaths`; protocols do not import admin). Pure: a function of its inputs.
 */

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

const json = (schema: Json, description = 'OK'): Json => ({
  description,
  content: { 'application/json': { schema } },
});

const errors = (...statuses: number[]): Json =>
  Object.fromEntries(statuses.map((s) => [String(s), json(ref('Error'), ERROR_TEXT[s] ?? 'Error')]));

const ERROR_TEXT: Record<number, string> = {
  400: 'Malformed request (JSON, field, unknown address type)',
  401: 'Authentication required or refused',
  403: 'Not allowed on this address',
  404: 'Unknown receipt or resource',
  405: 'Method not allowed',
  413: 'Body or batch over the limit',
  415: 'Expected application/json',
  503: 'A broker limit was reached; retry later',
};

const nameParam: Json = {
  name: 'name',
  in: 'path',
  required: true,
  description: 'Bare destination name, URL-encoded (`orders` = queue://orders).',
  schema: { type: 'string' },
};

const query = (name: string, description: string, schema: Json): Json => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});

const sendBody: Json = {
  required: true,
  content: {
    'application/json': { schema: ref('MessageIn') },
    '*/*': {
      schema: { type: 'string', format: 'binary' },
      description: 'Any other content type: the body is the message; query parameters are properties.',
    },
  },
};

const sendOp = (kind: string): Json => ({
  tags: ['messaging'],
  summary: `Send a message to ${kind}://{name}`,
  operationId: `send${kind === 'queue' ? 'Queue' : 'Topic'}Message`,
  parameters: [nameParam],
  requestBody: sendBody,
  responses: {
    '201': json(ref('SendResult'), 'Accepted (persistent messages are on disk)'),
    ...errors(400, 401, 403, 413, 503),
  },
});

const V1_PATHS_DOC: Json = {
  '/v1/auth/token': {
    post: {
      tags: ['auth'],
      summary: 'Trade a login for a bearer token',
      operationId: 'issueToken',
      security: [],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              properties: { login: { type: 'string' }, passcode: { type: 'string' } },
              additionalProperties: false,
            },
          },
        },
      },
      responses: { '200': json(ref('Token')), ...errors(400, 401, 415, 503) },
    },
    delete: {
      tags: ['auth'],
      summary: 'Revoke the presented bearer token',
      operationId: 'revokeToken',
      security: [{ bearer: [] }],
      responses: { '204': { description: 'Revoked (or already gone)' }, ...errors(400) },
    },
  },
  '/v1/openapi.json': {
    get: {
      tags: ['meta'],
      summary: 'This document',
      operationId: 'openApi',
      security: [],
      responses: { '200': json({ type: 'object' }) },
    },
  },
  '/v1/queues/{name}/messages': {
    post: sendOp('queue'),
    get: {
      tags: ['messaging'],
      summary: 'Browse a queue (read only, in delivery order)',
      operationId: 'browseQueue',
      parameters: [
        nameParam,
        query('max', 'Most messages returned (default 100, at most 1000)', { type: 'integer', minimum: 1 }),
        query('selector', 'JMS selector', { type: 'string' }),
      ],
      responses: { '200': json({ type: 'array', items: ref('MessageOut') }), ...errors(400, 401, 403) },
    },
  },
  '/v1/topics/{name}/messages': { post: sendOp('topic') },
  '/v1/messages:batch': {
    post: {
      tags: ['messaging'],
      summary: 'Send several messages in one transaction: all are accepted or none',
      operationId: 'sendBatch',
      requestBody: {
        required: true,
        content: { 'application/json': { schema: { type: 'array', minItems: 1, items: ref('BatchItem') } } },
      },
      responses: {
        '201': json({ type: 'object', properties: { sent: { type: 'integer' } }, required: ['sent'] }),
        ...errors(400, 401, 403, 413, 415, 503),
      },
    },
  },
  '/v1/queues/{name}/receive': {
    post: {
      tags: ['messaging'],
      summary: 'Receive messages, held unacked under a lease until acked, nacked or the visibility timeout',
      operationId: 'receive',
      parameters: [
        nameParam,
        query('max', 'Most messages (default 1)', { type: 'integer', minimum: 1 }),
        query('timeoutMs', 'Long-poll wait for the first message (default 0)', {
          type: 'integer',
          minimum: 0,
        }),
        query('visibilityTimeoutMs', 'How long the messages stay held', { type: 'integer', minimum: 100 }),
        query('selector', 'JMS selector', { type: 'string' }),
      ],
      responses: {
        '200': json({
          type: 'object',
          properties: {
            messages: { type: 'array', items: ref('ReceivedMessage') },
            visibilityTimeoutMs: { type: 'integer' },
          },
          required: ['messages', 'visibilityTimeoutMs'],
        }),
        ...errors(400, 401, 403, 503),
      },
    },
  },
  '/v1/acks': {
    post: {
      tags: ['messaging'],
      summary: 'Acknowledge received messages by receipt (all or none)',
      operationId: 'ack',
      requestBody: { required: true, content: { 'application/json': { schema: ref('Receipts') } } },
      responses: {
        '200': json({ type: 'object', properties: { acked: { type: 'integer' } }, required: ['acked'] }),
        ...errors(400, 401, 404, 415),
      },
    },
  },
  '/v1/nacks': {
    post: {
      tags: ['messaging'],
      summary: 'Return received messages for redelivery (or the dead-letter queue) by receipt',
      operationId: 'nack',
      requestBody: { required: true, content: { 'application/json': { schema: ref('Receipts') } } },
      responses: {
        '200': json({ type: 'object', properties: { nacked: { type: 'integer' } }, required: ['nacked'] }),
        ...errors(400, 401, 404, 415),
      },
    },
  },
  '/v1/stream/{address}': {
    get: {
      tags: ['streaming'],
      summary: 'Server-Sent Events stream of a topic (wildcards allowed) or queue',
      operationId: 'stream',
      parameters: [
        {
          name: 'address',
          in: 'path',
          required: true,
          description: 'A name (with ?type=queue|topic, topic by default) or a URL-encoded address',
          schema: { type: 'string' },
        },
        query('type', 'queue or topic (default topic)', { type: 'string', enum: ['queue', 'topic'] }),
        query('format', 'text (data = body) or json', { type: 'string', enum: ['text', 'json'] }),
        query('selector', 'JMS selector', { type: 'string' }),
        query('access_token', 'Bearer token, for EventSource, which cannot send headers', { type: 'string' }),
        {
          name: 'Last-Event-ID',
          in: 'header',
          required: false,
          description:
            'Resume after this event (topics: from the history; a `gap` event tells what was lost)',
          schema: { type: 'string' },
        },
      ],
      responses: {
        '200': {
          description: 'The stream',
          content: { 'text/event-stream': { schema: { type: 'string' } } },
        },
        ...errors(400, 401, 403, 405, 503),
      },
    },
  },
};

const SCHEMAS: Json = {
  Error: {
    type: 'object',
    properties: { error: { type: 'string' }, code: { type: 'string' } },
    required: ['error', 'code'],
  },
  Token: {
    type: 'object',
    properties: {
      token: { type: 'string' },
      expiresAt: { type: 'integer', description: 'Epoch milliseconds' },
      tokenType: { type: 'string', const: 'Bearer' },
    },
    required: ['token', 'expiresAt'],
  },
  Properties: {
    type: 'object',
    additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
  },
  MessageIn: {
    type: 'object',
    additionalProperties: false,
    properties: {
      body: {
        description: 'Text; base64 with bodyEncoding "base64"; any other JSON value is sent as JSON text',
      },
      bodyEncoding: { type: 'string', enum: ['utf8', 'base64'] },
      properties: ref('Properties'),
      persistent: { type: 'boolean', default: true },
      priority: { type: 'integer', minimum: 0, maximum: 9 },
      timeToLiveMs: { type: 'integer', minimum: 0 },
      correlationId: { type: 'string' },
      replyTo: { type: 'string', description: 'An address, e.g. queue://replies' },
      groupId: { type: 'string' },
      contentType: { type: 'string' },
    },
  },
  BatchItem: {
    allOf: [
      ref('MessageIn'),
      {
        type: 'object',
        properties: { address: { type: 'string', pattern: '^(queue|topic)://.+' } },
        required: ['address'],
      },
    ],
  },
  SendResult: {
    type: 'object',
    properties: { id: { type: 'string' }, address: { type: 'string' } },
    required: ['address'],
  },
  MessageOut: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      address: { type: 'string' },
      body: { type: 'string' },
      bodyEncoding: { type: 'string', enum: ['base64'] },
      properties: ref('Properties'),
      persistent: { type: 'boolean' },
      priority: { type: 'integer' },
      timestamp: { type: 'integer' },
      expiration: { type: 'integer' },
      correlationId: { type: 'string' },
      replyTo: { type: 'string' },
      groupId: { type: 'string' },
      contentType: { type: 'string' },
      deliveryCount: { type: 'integer' },
      redelivered: { type: 'boolean' },
    },
    required: ['id', 'address', 'body', 'properties', 'persistent', 'priority', 'timestamp', 'expiration'],
  },
  ReceivedMessage: {
    allOf: [
      ref('MessageOut'),
      { type: 'object', properties: { receipt: { type: 'string' } }, required: ['receipt'] },
    ],
  },
  Receipts: {
    description: 'receipts from receive, or the message ids of messages this user holds under a lease',
    oneOf: [
      {
        type: 'object',
        properties: { receipts: { type: 'array', minItems: 1, items: { type: 'string' } } },
        required: ['receipts'],
      },
      {
        type: 'object',
        properties: { ids: { type: 'array', minItems: 1, items: { type: 'string' } } },
        required: ['ids'],
      },
    ],
  },
};

export interface OpenApiInput {
  /** Further `paths` (the management API's); they may not redefine a /v1 messaging path. */
  extraPaths?: Record<string, unknown> | undefined;
  /** Further component schemas referenced by `extraPaths`. */
  extraSchemas?: Record<string, unknown> | undefined;
  version?: string | undefined;
}

export function openApiDocument(input: OpenApiInput = {}): Json {
  const paths: Json = { ...V1_PATHS_DOC };
  for (const [path, item] of Object.entries(input.extraPaths ?? {})) {
    if (!(path in paths)) paths[path] = item;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'BlazeMQ HTTP API',
      version: input.version ?? '1',
      description:
        'Messaging (/v1), Server-Sent Events (/v1/stream) and management (/v1/admin). Authenticate with HTTP ' +
        'Basic or a bearer token from POST /v1/auth/token. Errors are {"error", "code"}.',
    },
    servers: [{ url: '/' }],
    security: [{ basic: [] }, { bearer: [] }],
    tags: [
      { name: 'auth' },
      { name: 'messaging' },
      { name: 'streaming' },
      { name: 'meta' },
      { name: 'admin' },
    ],
    paths,
    components: {
      securitySchemes: {
        basic: { type: 'http', scheme: 'basic' },
        bearer: { type: 'http', scheme: 'bearer' },
      },
      schemas: { ...(input.extraSchemas ?? {}), ...SCHEMAS },
    },
  };
}
