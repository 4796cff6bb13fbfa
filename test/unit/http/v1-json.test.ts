/**
 * The /v1 API's pure parts: the JSON message form (validation and round trip), the router, and the OpenAPI
 * document (structurally valid, and describing every route the router serves).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../../src/core/message.js';
import { HttpError } from '../../../src/protocol/http/errors.js';
import { DEFAULT_HTTP_LIMITS } from '../../../src/protocol/http/request.js';
import { messageToJson, parseMessageJson } from '../../../src/protocol/http/v1/message-json.js';
import { openApiDocument } from '../../../src/protocol/http/v1/openapi.js';
import { parseV1Request, V1_PATHS } from '../../../src/protocol/http/v1/routes.js';

const NOW = 1_700_000_000_000;

function asMessage(init: ReturnType<typeof parseMessageJson>): Message {
  return {
    id: 'ID:1',
    timestamp: NOW,
    priority: 4,
    expiration: 0,
    persistent: true,
    properties: {},
    ...init,
  } as Message;
}

function badRequest(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HttpError);
    expect((e as HttpError).status).toBe(400);
    return (e as HttpError).message;
  }
  throw new Error('expected a 400');
}

describe('parseMessageJson', () => {
  it('maps every field', () => {
    const init = parseMessageJson(
      {
        body: 'hi',
        properties: { a: 1, b: 'x', c: true, d: null },
        persistent: false,
        priority: 9,
        timeToLiveMs: 500,
        correlationId: 'c1',
        replyTo: 'queue://r',
        groupId: 'g',
        contentType: 'text/plain',
      },
      'queue://q',
      NOW,
    );
    expect(init).toMatchObject({
      address: 'queue://q',
      properties: { a: 1, b: 'x', c: true, d: null },
      persistent: false,
      priority: 9,
      expiration: NOW + 500,
      correlationId: 'c1',
      replyTo: 'queue://r',
      groupId: 'g',
      contentType: 'text/plain',
    });
    expect(Buffer.from(init.body).toString()).toBe('hi');
  });

  it('defaults to persistent; base64 bodies; other JSON values as JSON text', () => {
    expect(parseMessageJson({}, 'queue://q', NOW)).toMatchObject({ persistent: true, properties: {} });
    const b = parseMessageJson({ body: '/wA=', bodyEncoding: 'base64' }, 'queue://q', NOW);
    expect([...b.body]).toEqual([0xff, 0]);
    const j = parseMessageJson({ body: { x: [1, 2] } }, 'queue://q', NOW);
    expect(Buffer.from(j.body).toString()).toBe('{"x":[1,2]}');
    expect(j.contentType).toBe('application/json');
  });

  it('refuses bad input with a 400 naming the field', () => {
    expect(badRequest(() => parseMessageJson([], 'queue://q', NOW))).toMatch(/JSON object/);
    expect(badRequest(() => parseMessageJson({ priorty: 1 }, 'queue://q', NOW))).toMatch(/priorty: unknown/);
    expect(badRequest(() => parseMessageJson({ priority: 10 }, 'queue://q', NOW))).toMatch(/priority/);
    expect(badRequest(() => parseMessageJson({ priority: 1.5 }, 'queue://q', NOW))).toMatch(/priority/);
    expect(badRequest(() => parseMessageJson({ persistent: 'yes' }, 'queue://q', NOW))).toMatch(/persistent/);
    expect(badRequest(() => parseMessageJson({ timeToLiveMs: -1 }, 'queue://q', NOW))).toMatch(/timeToLive/);
    expect(badRequest(() => parseMessageJson({ properties: { a: {} } }, 'queue://q', NOW))).toMatch(/\.a/);
    expect(badRequest(() => parseMessageJson({ properties: [] }, 'queue://q', NOW))).toMatch(/properties/);
    expect(badRequest(() => parseMessageJson({ replyTo: 'nowhere' }, 'queue://q', NOW))).toMatch(/replyTo/);
    expect(
      badRequest(() => parseMessageJson({ body: 'a', bodyEncoding: 'base64' }, 'queue://q', NOW)),
    ).toMatch(/base64/);
    expect(badRequest(() => parseMessageJson({ bodyEncoding: 'hex' }, 'queue://q', NOW))).toMatch(
      /bodyEncoding/,
    );
  });

  it('any JSON value is either a message or a 400, never another error', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        try {
          parseMessageJson(v, 'queue://q', NOW);
        } catch (e) {
          expect(e).toBeInstanceOf(HttpError);
          expect((e as HttpError).status).toBe(400);
        }
      }),
    );
  });

  it('round-trips body (text or binary) and properties through messageToJson', () => {
    const property = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string().map((s) => ({ body: s })),
          fc.uint8Array().map((b) => ({ body: Buffer.from(b).toString('base64'), bodyEncoding: 'base64' })),
        ),
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !/[\u0000-\u001f\u007f]/.test(k)),
          property,
        ),
        (body, properties) => {
          const init = parseMessageJson({ ...body, properties }, 'topic://t', NOW);
          const out = messageToJson(asMessage(init));
          const back = parseMessageJson(
            {
              body: out.body,
              ...(out.bodyEncoding ? { bodyEncoding: out.bodyEncoding } : {}),
              properties: out.properties,
            },
            'topic://t',
            NOW,
          );
          expect(Buffer.from(back.body).equals(Buffer.from(init.body))).toBe(true);
          expect(out.properties).toEqual(properties);
        },
      ),
    );
  });
});

describe('parseV1Request', () => {
  const L = DEFAULT_HTTP_LIMITS;
  it('routes every path and leaves the admin and stream paths to their handlers', () => {
    expect(parseV1Request('POST', '/v1/queues/orders/messages', L)).toEqual({
      op: 'send',
      address: 'queue://orders',
    });
    expect(parseV1Request('POST', '/v1/topics/a.b%2Fc/messages', L)).toEqual({
      op: 'send',
      address: 'topic://a.b/c',
    });
    expect(parseV1Request('GET', '/v1/queues/q/messages?max=5&selector=a%3D1', L)).toEqual({
      op: 'browse',
      address: 'queue://q',
      max: 5,
      selector: 'a=1',
    });
    expect(parseV1Request('POST', '/v1/queues/q/receive?max=100000&timeoutMs=100', L)).toMatchObject({
      op: 'receive',
      max: L.maxReceiveMessages,
      timeoutMs: 100,
      visibilityTimeoutMs: L.visibilityTimeoutMs,
    });
    expect(parseV1Request('POST', '/v1/messages:batch', L)).toEqual({ op: 'batch' });
    expect(parseV1Request('POST', '/v1/acks', L)).toEqual({ op: 'ack' });
    expect(parseV1Request('POST', '/v1/nacks', L)).toEqual({ op: 'nack' });
    expect(parseV1Request('DELETE', '/v1/auth/token', L)).toEqual({ op: 'token.revoke' });
    expect(parseV1Request('GET', '/v1/admin/queues', L)).toBeUndefined();
    expect(parseV1Request('GET', '/v1/stream/x', L)).toBeUndefined();
    expect(parseV1Request('GET', '/api/message/x', L)).toBeUndefined();
  });

  it('405 for a wrong method, 400 for bad names and numbers', () => {
    const status = (m: string, u: string) => {
      try {
        parseV1Request(m, u, L);
      } catch (e) {
        return (e as HttpError).status;
      }
      return 0;
    };
    expect(status('GET', '/v1/topics/t/messages')).toBe(405);
    expect(status('GET', '/v1/acks')).toBe(405);
    expect(status('GET', '/v1/queues/q/receive')).toBe(405);
    expect(status('POST', '/v1/queues/a%2Cb/messages')).toBe(400);
    expect(status('POST', '/v1/queues/%E0%A4%A/messages')).toBe(400);
    expect(status('POST', '/v1/queues/q/receive?max=-1')).toBe(400);
    expect(status('POST', '/v1/queues/q/receive?max=0')).toBe(400);
  });
});

describe('openApiDocument', () => {
  const doc = openApiDocument({
    extraPaths: { '/v1/admin/overview': { get: { responses: { '200': { description: 'ok' } } } } },
  }) as {
    openapi: string;
    info: { title: string; version: string };
    paths: Record<
      string,
      Record<string, { responses: Record<string, unknown>; parameters?: Array<{ in: string; name: string }> }>
    >;
    components: { schemas: Record<string, unknown> };
  };
  const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

  it('is OpenAPI 3.1 with info, and describes every route the router serves, plus merged paths', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBeTruthy();
    for (const p of V1_PATHS) expect(Object.keys(doc.paths)).toContain(p);
    expect(doc.paths['/v1/stream/{address}']).toBeDefined();
    expect(doc.paths['/v1/admin/overview']).toBeDefined();
  });

  it('is structurally valid: operations with responses, declared path parameters, resolvable $refs', () => {
    const refs: string[] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (typeof v === 'object' && v !== null) {
        for (const [k, x] of Object.entries(v)) {
          if (k === '$ref' && typeof x === 'string') refs.push(x);
          else walk(x);
        }
      }
    };
    walk(doc);
    for (const r of refs) {
      expect(r).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas[r.split('/').pop()!], r).toBeDefined();
    }
    for (const [path, item] of Object.entries(doc.paths)) {
      expect(path.startsWith('/')).toBe(true);
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item)) {
        expect(METHODS.has(method), `${method} ${path}`).toBe(true);
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
        for (const code of Object.keys(op.responses)) expect(code).toMatch(/^([1-5]\d\d|default)$/);
        const declared = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
        for (const t of templated) expect(declared, `${method} ${path}`).toContain(t);
      }
    }
  });
});
