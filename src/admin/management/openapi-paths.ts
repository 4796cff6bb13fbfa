/**
 * The management API as an OpenAPI 3.1 `paths` object, merged by the `/v1/openapi.json` document. Schemas
 * are inline (no `$ref` to components), so the object stands alone wherever it is merged. Kept next to
 * the route table: a unit test checks that every route in router.ts is described here and vice versa.
 */

type Json = Readonly<Record<string, unknown>>;

const int = { type: 'integer', minimum: 0 } as const;
const str = { type: 'string' } as const;

const error: Json = {
  type: 'object',
  required: ['error', 'code'],
  properties: { error: str, code: { type: 'string', description: 'BlazeError code, e.g. NOT_FOUND' } },
};

const queue: Json = {
  type: 'object',
  required: [
    'address',
    'name',
    'depth',
    'enqueued',
    'dequeued',
    'consumers',
    'inFlight',
    'oldestMessageAgeMs',
  ],
  properties: {
    address: str,
    name: str,
    depth: { ...int, description: 'pending + in flight' },
    pending: int,
    paged: { ...int, description: 'pending messages whose body is paged out to the store' },
    inFlight: int,
    enqueued: int,
    dequeued: int,
    expired: int,
    deadLettered: int,
    consumers: int,
    oldestMessageAgeMs: { type: ['integer', 'null'], description: 'null when nothing is pending' },
    memoryBytes: int,
    blocked: { type: 'boolean' },
  },
};

const propertyValue: Json = { type: ['string', 'number', 'boolean', 'null'] };

const message: Json = {
  type: 'object',
  properties: {
    id: str,
    address: str,
    body: { type: 'string', description: 'UTF-8 text, or base64 when bodyEncoding is "base64"' },
    bodyEncoding: { type: 'string', enum: ['base64'] },
    properties: { type: 'object', additionalProperties: propertyValue },
    persistent: { type: 'boolean' },
    priority: { type: 'integer', minimum: 0, maximum: 9 },
    timestamp: { type: 'integer', description: 'epoch ms' },
    expiration: { type: 'integer', description: 'epoch ms, 0 = never' },
    correlationId: { type: ['string', 'null'] },
    replyTo: { type: ['string', 'null'] },
    groupId: str,
    contentType: str,
    originalAddress: str,
    deliveryCount: int,
    redelivered: { type: 'boolean' },
  },
};

const sendBody: Json = {
  type: 'object',
  required: ['body'],
  additionalProperties: false,
  properties: {
    body: str,
    bodyEncoding: { type: 'string', enum: ['utf8', 'base64'], default: 'utf8' },
    properties: { type: 'object', additionalProperties: propertyValue },
    persistent: { type: 'boolean', default: false },
    priority: { type: 'integer', minimum: 0, maximum: 9, default: 4 },
    expiration: { type: 'integer', minimum: 0, description: 'epoch ms' },
    timeToLive: { type: 'integer', minimum: 0, description: 'ms from now (instead of expiration)' },
    correlationId: str,
    replyTo: { type: 'string', description: 'canonical address, e.g. queue://replies' },
    groupId: str,
    contentType: str,
  },
};

const preparedBranch: Json = {
  type: 'object',
  required: [
    'xidKey',
    'xid',
    'preparedAt',
    'ageMs',
    'recovered',
    'sends',
    'acks',
    'addresses',
    'moreAddresses',
  ],
  properties: {
    xidKey: { type: 'string', description: 'formatId:globalIdHex:branchIdHex; URL-encode it as {xid}' },
    xid: {
      type: 'object',
      properties: {
        formatId: { type: 'integer' },
        globalId: { type: 'string', description: 'hex' },
        branchId: { type: 'string', description: 'hex' },
      },
    },
    preparedAt: {
      type: 'integer',
      description: 'epoch ms of the prepare; for a recovered branch, of the broker start that recovered it',
    },
    ageMs: int,
    recovered: { type: 'boolean', description: 're-created from the store after a restart' },
    sends: { ...int, description: 'messages sent on commit' },
    acks: {
      ...int,
      description: 'messages acknowledged: locked (in flight, delivered to nobody) until resolved',
    },
    addresses: { type: 'array', items: str, description: 'send targets and acked queues, at most 20' },
    moreAddresses: { ...int, description: 'distinct addresses beyond the listed ones' },
  },
};

const json = (schema: Json) => ({ content: { 'application/json': { schema } } });
const errors = {
  '400': { description: 'bad input', ...json(error) },
  '401': { description: 'authentication required', ...json(error) },
  '403': { description: 'no admin permission on the address', ...json(error) },
};
const notFound = { '404': { description: 'not found', ...json(error) } };
const pathParam = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: str,
});
const queueName = pathParam('name', 'bare queue name, URL-encoded (orders = queue://orders)');
const xidParam = pathParam('xid', "the branch's xidKey (formatId:globalIdHex:branchIdHex), URL-encoded");
const xaNotFound = { description: 'no such branch, or it is not prepared', ...json(error) };
const noContent = { '204': { description: 'done' } };
const tags = ['admin'];
const security = [{ basic: [] }, { bearer: [] }];

export const adminOpenApiPaths: Json = {
  '/v1/admin/overview': {
    get: {
      tags,
      security,
      summary: 'Broker overview: version, uptime, memory, totals and message rates (last ~5 s)',
      operationId: 'adminOverview',
      responses: {
        '200': {
          description: 'overview',
          ...json({
            type: 'object',
            properties: {
              version: str,
              uptimeSeconds: int,
              memory: {
                type: 'object',
                properties: { used: int, peak: int, limit: int, blocked: { type: 'boolean' } },
              },
              totals: {
                type: 'object',
                properties: {
                  connections: int,
                  queues: int,
                  topics: int,
                  durables: int,
                  messages: int,
                  enqueued: int,
                  dequeued: int,
                },
              },
              rates: {
                type: 'object',
                properties: { enqueuedPerSecond: { type: 'number' }, dequeuedPerSecond: { type: 'number' } },
              },
            },
          }),
        },
        ...errors,
      },
    },
  },
  '/v1/admin/queues': {
    get: {
      tags,
      security,
      summary: 'List queues',
      operationId: 'adminListQueues',
      responses: { '200': { description: 'queues', ...json({ type: 'array', items: queue }) }, ...errors },
    },
  },
  '/v1/admin/queues/{name}': {
    parameters: [queueName],
    get: {
      tags,
      security,
      summary: 'One queue',
      operationId: 'adminGetQueue',
      responses: { '200': { description: 'the queue', ...json(queue) }, ...errors, ...notFound },
    },
    delete: {
      tags,
      security,
      summary: 'Delete the queue and its messages (its consumers are ended)',
      operationId: 'adminDeleteQueue',
      responses: { ...noContent, ...errors, ...notFound },
    },
  },
  '/v1/admin/queues/{name}/purge': {
    parameters: [queueName],
    post: {
      tags,
      security,
      summary: 'Remove every pending message (in-flight ones stay with their consumers)',
      operationId: 'adminPurgeQueue',
      responses: {
        '200': { description: 'purged', ...json({ type: 'object', properties: { purged: int } }) },
        ...errors,
        ...notFound,
      },
    },
  },
  '/v1/admin/queues/{name}/messages': {
    parameters: [queueName],
    get: {
      tags,
      security,
      summary: 'Browse pending messages in delivery order, without consuming them',
      operationId: 'adminBrowseQueue',
      parameters: [
        { name: 'max', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 10000, default: 100 } },
        { name: 'selector', in: 'query', schema: str, description: 'JMS SQL-92 selector' },
      ],
      responses: {
        '200': { description: 'messages', ...json({ type: 'array', items: message }) },
        ...errors,
        ...notFound,
      },
    },
    post: {
      tags,
      security,
      summary: 'Send a message to the queue',
      operationId: 'adminSendToQueue',
      requestBody: { required: true, ...json(sendBody) },
      responses: {
        '201': { description: 'accepted', ...json({ type: 'object', properties: { id: str } }) },
        ...errors,
      },
    },
  },
  '/v1/admin/queues/{name}/messages/{id}': {
    parameters: [queueName, pathParam('id', 'message id')],
    delete: {
      tags,
      security,
      summary: 'Delete one pending message',
      operationId: 'adminDeleteMessage',
      responses: { ...noContent, ...errors, ...notFound },
    },
  },
  '/v1/admin/queues/{name}/messages/{id}/move': {
    parameters: [queueName, pathParam('id', 'message id')],
    post: {
      tags,
      security,
      summary: 'Move one pending message to another queue or a topic (id and headers kept)',
      operationId: 'adminMoveMessage',
      requestBody: {
        required: true,
        ...json({
          type: 'object',
          required: ['to'],
          properties: { to: { type: 'string', example: 'queue://other' } },
        }),
      },
      responses: { ...noContent, ...errors, ...notFound },
    },
  },
  '/v1/admin/addresses': {
    get: {
      tags,
      security,
      summary: 'Every queue, topic published to, and live temporary destination',
      operationId: 'adminListAddresses',
      responses: {
        '200': {
          description: 'addresses',
          ...json({
            type: 'array',
            items: {
              type: 'object',
              properties: {
                address: str,
                kind: { type: 'string', enum: ['queue', 'topic', 'temp-queue', 'temp-topic'] },
                depth: { ...int, description: 'queues only: pending + in flight' },
                consumers: { ...int, description: 'queue consumers, or subscriptions matching the topic' },
              },
            },
          }),
        },
        ...errors,
      },
    },
  },
  '/v1/admin/topics': {
    get: {
      tags,
      security,
      summary: 'Topics published to, with their current subscribers',
      operationId: 'adminListTopics',
      responses: {
        '200': {
          description: 'topics',
          ...json({
            type: 'array',
            items: {
              type: 'object',
              properties: { address: str, name: str, published: int, subscribers: int },
            },
          }),
        },
        ...errors,
      },
    },
  },
  '/v1/admin/topics/{name}/messages': {
    parameters: [pathParam('name', 'topic name, URL-encoded (prices.IBM = topic://prices.IBM)')],
    post: {
      tags,
      security,
      summary: 'Publish a message to the topic',
      operationId: 'adminSendToTopic',
      requestBody: { required: true, ...json(sendBody) },
      responses: {
        '201': { description: 'accepted', ...json({ type: 'object', properties: { id: str } }) },
        ...errors,
      },
    },
  },
  '/v1/admin/subscriptions': {
    get: {
      tags,
      security,
      summary: 'Live subscriptions, and durable ones even when inactive',
      operationId: 'adminListSubscriptions',
      responses: {
        '200': {
          description: 'subscriptions',
          ...json({
            type: 'array',
            items: {
              type: 'object',
              properties: {
                id: str,
                connectionId: str,
                address: str,
                durable: { type: 'boolean' },
                clientId: str,
                name: str,
                active: { type: 'boolean' },
                ackMode: { type: 'string', enum: ['auto', 'cumulative', 'individual'] },
                pending: int,
                inFlight: int,
                selector: str,
                shareGroup: str,
              },
            },
          }),
        },
        ...errors,
      },
    },
  },
  '/v1/admin/subscriptions/durable/{clientId}/{name}': {
    parameters: [pathParam('clientId', 'JMS client id'), pathParam('name', 'durable subscription name')],
    delete: {
      tags,
      security,
      summary: 'Remove an inactive durable subscription and its messages (409 while active)',
      operationId: 'adminDeleteDurable',
      responses: { ...noContent, ...errors, ...notFound, '409': { description: 'active', ...json(error) } },
    },
  },
  '/v1/admin/connections': {
    get: {
      tags,
      security,
      summary: 'Open client connections',
      operationId: 'adminListConnections',
      responses: {
        '200': {
          description: 'connections',
          ...json({
            type: 'array',
            items: {
              type: 'object',
              properties: {
                id: str,
                protocol: str,
                remoteAddress: str,
                clientId: str,
                user: str,
                connectedAt: { type: 'integer', description: 'epoch ms' },
                subscriptions: int,
                inFlight: int,
                transactions: int,
              },
            },
          }),
        },
        ...errors,
      },
    },
  },
  '/v1/admin/connections/{id}': {
    parameters: [pathParam('id', 'connection id')],
    delete: {
      tags,
      security,
      summary: 'Close the connection; its protocol session tells the client why',
      operationId: 'adminCloseConnection',
      responses: { ...noContent, ...errors, ...notFound },
    },
  },
  '/v1/admin/transactions': {
    get: {
      tags,
      security,
      summary: 'Prepared (in-doubt) XA branches, longest in doubt first',
      operationId: 'adminListTransactions',
      responses: {
        '200': { description: 'prepared branches', ...json({ type: 'array', items: preparedBranch }) },
        ...errors,
      },
    },
  },
  '/v1/admin/transactions/{xid}/commit': {
    parameters: [xidParam],
    post: {
      tags,
      security,
      summary:
        'Commit a prepared XA branch: a heuristic decision, only when its coordinator is gone for good',
      operationId: 'adminCommitTransaction',
      responses: { ...noContent, ...errors, '404': xaNotFound },
    },
  },
  '/v1/admin/transactions/{xid}/rollback': {
    parameters: [xidParam],
    post: {
      tags,
      security,
      summary:
        'Roll back a prepared XA branch: a heuristic decision, only when its coordinator is gone for good',
      operationId: 'adminRollbackTransaction',
      responses: { ...noContent, ...errors, '404': xaNotFound },
    },
  },
  '/metrics': {
    get: {
      tags,
      security,
      summary: 'Prometheus metrics (text exposition format)',
      operationId: 'metrics',
      responses: {
        '200': { description: 'metrics', content: { 'text/plain': { schema: str } } },
        '401': errors['401'],
        '403': errors['403'],
      },
    },
  },
};
