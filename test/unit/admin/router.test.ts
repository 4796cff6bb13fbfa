import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchRoute, ROUTES } from '../../../src/admin/management/router.js';
import { HttpError } from '../../../src/protocol/http/errors.js';

describe('matchRoute', () => {
  it('matches each route with decoded parameters', () => {
    expect(matchRoute('GET', '/v1/admin/overview')).toEqual({ kind: 'route', name: 'overview', params: {} });
    expect(matchRoute('GET', '/v1/admin/queues/a%2Fb')).toEqual({
      kind: 'route',
      name: 'getQueue',
      params: { name: 'a/b' },
    });
    expect(matchRoute('POST', '/v1/admin/queues/q/messages/ID%3Ax%3A1/move')).toEqual({
      kind: 'route',
      name: 'moveMessage',
      params: { name: 'q', id: 'ID:x:1' },
    });
    expect(matchRoute('DELETE', '/v1/admin/subscriptions/durable/c%201/n')).toEqual({
      kind: 'route',
      name: 'deleteDurable',
      params: { clientId: 'c 1', name: 'n' },
    });
  });

  it('serves HEAD as GET and ignores one trailing slash', () => {
    expect(matchRoute('HEAD', '/v1/admin/queues/')).toMatchObject({ kind: 'route', name: 'listQueues' });
  });

  it('answers other methods of a known path with what is allowed', () => {
    expect(matchRoute('PUT', '/v1/admin/queues/x')).toEqual({ kind: 'method', allow: ['GET', 'DELETE'] });
    expect(matchRoute('GET', '/v1/admin/queues/x/purge')).toEqual({ kind: 'method', allow: ['POST'] });
  });

  it('does not match unknown, empty-parameter or foreign paths', () => {
    expect(matchRoute('GET', '/v1/admin/nothing')).toEqual({ kind: 'none' });
    expect(matchRoute('GET', '/v1/admin/queues//messages')).toEqual({ kind: 'none' });
    expect(matchRoute('GET', '/api/message/x')).toEqual({ kind: 'none' });
  });

  it('refuses malformed percent-encoding with a 400', () => {
    expect(() => matchRoute('GET', '/v1/admin/queues/%E0%A4%A')).toThrow(HttpError);
  });

  it('round-trips any queue name through encodeURIComponent (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (name) => {
        const m = matchRoute('GET', `/v1/admin/queues/${encodeURIComponent(name)}/messages`);
        expect(m).toEqual({ kind: 'route', name: 'browseQueue', params: { name } });
      }),
    );
  });

  it('never throws anything but a 400 HttpError on arbitrary paths (fuzz)', () => {
    fc.assert(
      fc.property(fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'), fc.string(), (method, rest) => {
        try {
          matchRoute(method, `/v1/admin/${rest}`);
        } catch (e) {
          expect(e).toBeInstanceOf(HttpError);
          expect((e as HttpError).status).toBe(400);
        }
      }),
    );
  });

  it('has one route per method and pattern', () => {
    const keys = ROUTES.map((r) => `${r.method} ${r.pattern}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
