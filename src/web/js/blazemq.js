/*
 * blazemq.js: a tiny browser API for BlazeMQ over HTTP, served by the broker at /js/blazemq.js.
 * Plain ES2018, no build step, no dependencies: <script src="/js/blazemq.js"></script>, then
 *
 *   const mq = BlazeMQ.connect({ url: 'http://broker:8161', user: 'alice', password: 'secret' });
 *   // or { token } from POST /v1/auth/token, or nothing when the broker has no users
 *   await mq.send('topic://prices.IBM', '101.5', { currency: 'USD' });
 *   const stop = mq.subscribe('topic://prices.>', (m) => console.log(m.address, m.body), { transport: 'sse' });
 *   stop();
 *
 * Publishing is a POST to the /v1 API. Receiving is Server-Sent Events (EventSource; the browser reconnects
 * and the broker resumes from Last-Event-ID) or, for old browsers and proxies that break streams, long-poll
 * GETs of the ActiveMQ-compatible /api/message with a consumer id, so no message is lost between polls.
 * Messages handed to onMessage: {id, address, body, properties, timestamp?, contentType?}; `body` is text,
 * or base64 with `bodyEncoding: 'base64'` when it is not UTF-8.
 */
((root) => {
  const RESERVED_HEADERS = [
    'cache-control',
    'connection',
    'content-length',
    'content-type',
    'date',
    'keep-alive',
    'set-cookie',
    'transfer-encoding',
    'id',
    'destination',
    'redelivered',
    'delivery-count',
    'jmspriority',
    'jmsdeliverymode',
    'jmstimestamp',
    'jmsexpiration',
    'jmscorrelationid',
    'jmsreplyto',
    'jmsxgroupid',
  ];

  /** 'queue://a', 'topic://a.b', '/queue/a', '/topic/a' or a bare name (a topic) -> {kind, name}. */
  function parseAddress(address) {
    const m = /^(queue|topic):\/\/(.+)$/.exec(address) || /^\/(queue|topic)\/(.+)$/.exec(address);
    if (m) return { kind: m[1], name: m[2] };
    if (/^[a-z-]+:\/\//.test(address)) throw new Error('BlazeMQ: unsupported address ' + address);
    return { kind: 'topic', name: address };
  }

  function randomId() {
    const c = root.crypto;
    const a = new Uint32Array(4);
    if (c !== undefined && typeof c.getRandomValues === 'function') {
      c.getRandomValues(a);
      return Array.prototype.map.call(a, (n) => n.toString(36)).join('');
    }
    return Math.random().toString(36).slice(2) + Date.now().toString(36);
  }

  function base64(text) {
    if (typeof root.btoa === 'function') return root.btoa(unescape(encodeURIComponent(text)));
    return Buffer.from(text, 'utf8').toString('base64');
  }

  function BlazeError(status, body) {
    const info = body || {};
    const e = new Error('BlazeMQ: ' + (info.error || 'HTTP ' + status));
    e.status = status;
    e.code = info.code;
    return e;
  }

  function connect(options) {
    options = options || {};
    const base = (options.url || (root.location ? root.location.origin : '')).replace(/\/+$/, '');
    const fetchFn = options.fetch || root.fetch.bind(root);
    const EventSourceCtor = options.EventSource || root.EventSource;
    let token = options.token;
    let tokenPromise;
    const closers = [];

    /** A bearer token for EventSource (which cannot send an Authorization header). */
    function getToken() {
      if (token) return Promise.resolve(token);
      if (!tokenPromise) {
        tokenPromise = fetchFn(base + '/v1/auth/token', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ login: options.user, passcode: options.password }),
        }).then((r) =>
          r.json().then((body) => {
            if (!r.ok) throw BlazeError(r.status, body);
            token = body.token;
            return token;
          }),
        );
        tokenPromise.catch(() => {
          tokenPromise = undefined;
        });
      }
      return tokenPromise;
    }

    function authHeaders() {
      if (token) return { authorization: 'Bearer ' + token };
      if (options.user !== undefined) {
        return { authorization: 'Basic ' + base64(options.user + ':' + (options.password || '')) };
      }
      return {};
    }

    function json(r) {
      const type = r.headers.get('content-type') || '';
      if (type.indexOf('json') < 0) return Promise.resolve({});
      return r.json();
    }

    /** send(address, body, properties?, options?): resolves {id, address} once the broker accepted it. */
    function send(address, body, properties, sendOptions) {
      const a = parseAddress(address);
      const message = Object.assign({}, sendOptions || {}, { body: body, properties: properties || {} });
      const path =
        '/v1/' + (a.kind === 'queue' ? 'queues/' : 'topics/') + encodeURIComponent(a.name) + '/messages';
      return fetchFn(base + path, {
        method: 'POST',
        headers: Object.assign({ 'content-type': 'application/json' }, authHeaders()),
        body: JSON.stringify(message),
      }).then((r) =>
        json(r).then((out) => {
          if (!r.ok) throw BlazeError(r.status, out);
          return out;
        }),
      );
    }

    function subscribeSse(a, onMessage, subOptions) {
      let es;
      let stopped = false;
      let lastEventId;
      let url = base + '/v1/stream/' + encodeURIComponent(a.kind + '://' + a.name) + '?format=json';
      if (subOptions.selector) url += '&selector=' + encodeURIComponent(subOptions.selector);
      const needsToken = token || options.user !== undefined;

      function open() {
        if (stopped) return;
        (needsToken ? getToken() : Promise.resolve(undefined)).then(
          (t) => {
            if (stopped) return;
            let full = t ? url + '&access_token=' + encodeURIComponent(t) : url;
            // A new EventSource (after a refused reconnect) starts with no Last-Event-ID: pass it ourselves.
            if (lastEventId) full += '&lastEventId=' + encodeURIComponent(lastEventId);
            es = new EventSourceCtor(full);
            es.onmessage = (e) => {
              if (e.lastEventId) lastEventId = e.lastEventId;
              const m = JSON.parse(e.data);
              if (m.bodyBase64 !== undefined) {
                m.body = m.bodyBase64;
                m.bodyEncoding = 'base64';
                delete m.bodyBase64;
              }
              onMessage(m);
            };
            es.addEventListener('gap', (e) => {
              if (e.lastEventId) lastEventId = e.lastEventId;
              if (subOptions.onGap) subOptions.onGap(JSON.parse(e.data).missed);
            });
            es.onerror = (e) => {
              if (subOptions.onError) subOptions.onError(e);
              // The browser retries by itself unless the broker refused the stream (expired token: 401).
              if (es.readyState === 2 && !stopped) {
                if (options.user !== undefined) {
                  token = undefined;
                  tokenPromise = undefined;
                }
                setTimeout(open, subOptions.retryMs || 1000);
              }
            };
          },
          (err) => {
            if (subOptions.onError) subOptions.onError(err);
            if (!stopped) setTimeout(open, subOptions.retryMs || 1000);
          },
        );
      }

      open();
      return () => {
        stopped = true;
        if (es) es.close();
      };
    }

    function subscribeLongPoll(a, onMessage, subOptions) {
      let stopped = false;
      const controller = typeof AbortController === 'function' ? new AbortController() : undefined;
      const clientId = 'js-' + randomId();
      let path = '/api/message/' + encodeURIComponent(a.name) + '?type=' + a.kind + '&clientId=' + clientId;
      if (subOptions.selector) path += '&selector=' + encodeURIComponent(subOptions.selector);
      const readTimeout = subOptions.readTimeoutMs || 20000;
      const retryMs = subOptions.retryMs || 1000;

      function poll() {
        if (stopped) return;
        fetchFn(base + path + '&readTimeout=' + readTimeout, {
          headers: authHeaders(),
          signal: controller === undefined ? undefined : controller.signal,
        })
          .then((r) => {
            if (r.status === 204) return poll();
            return r.text().then((text) => {
              if (!r.ok) throw BlazeError(r.status, safeJson(text));
              const properties = {};
              r.headers.forEach((value, name) => {
                if (RESERVED_HEADERS.indexOf(name.toLowerCase()) < 0) properties[name] = value;
              });
              onMessage({
                id: r.headers.get('id'),
                address: r.headers.get('destination'),
                body: text,
                properties: properties,
                contentType: r.headers.get('content-type'),
                redelivered: r.headers.get('redelivered') === 'true',
              });
              poll();
            });
          })
          .catch((err) => {
            if (stopped) return;
            if (subOptions.onError) subOptions.onError(err);
            setTimeout(poll, retryMs);
          });
      }

      function safeJson(text) {
        try {
          return JSON.parse(text);
        } catch (_e) {
          return { error: text };
        }
      }

      poll();
      return () => {
        if (stopped) return;
        stopped = true;
        if (controller) controller.abort();
        // Close the consumer kept for us: a message it holds goes back to the queue at once.
        fetchFn(base + path, { method: 'DELETE', headers: authHeaders() }).catch(() => {});
      };
    }

    /**
     * subscribe(address, onMessage, {transport: 'sse'|'longpoll', selector, onError, onGap}) -> unsubscribe.
     * Default transport: SSE when the browser has EventSource, else long-poll.
     */
    function subscribe(address, onMessage, subOptions) {
      subOptions = subOptions || {};
      const a = parseAddress(address);
      const transport = subOptions.transport || (EventSourceCtor ? 'sse' : 'longpoll');
      const stop =
        transport === 'sse'
          ? subscribeSse(a, onMessage, subOptions)
          : subscribeLongPoll(a, onMessage, subOptions);
      closers.push(stop);
      return () => {
        const i = closers.indexOf(stop);
        if (i >= 0) closers.splice(i, 1);
        stop();
      };
    }

    function close() {
      closers.splice(0).forEach((stop) => {
        stop();
      });
    }

    return { send: send, subscribe: subscribe, close: close, token: getToken };
  }

  root.BlazeMQ = { connect: connect, version: '1' };
})(typeof globalThis !== 'undefined' ? globalThis : typeof self !== 'undefined' ? self : this);
