/**
 * Version 2 of the native codec: Send/SendBatch `want_ids`, Ok `message_ids`, DeleteTemporary, version
 * negotiation, and the duplicate-detection record that now carries a message id. Hand-written sides are
 * checked against protobufjs (the reference), as in codec.test.ts.
 */
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeOk, encodeOkIds } from '../../../src/protocol/native/codec/index.js';
import { decodeRecord, encodeRecord } from '../../../src/protocol/native/producers.js';
import { RecentIds } from '../../../src/protocol/native/recent-ids.js';
import { negotiateVersion } from '../../../src/protocol/native/session.js';
import { frame, parseFrames } from './helpers.js';

/** protobufjs' bytes of a broker frame, length prefix included. */
function reference(kind: string, value: object): Buffer {
  return frame(kind, value);
}

const anyId = fc.oneof(
  fc.constant(''),
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ minLength: 130, maxLength: 200 }),
);

describe('Ok with message ids (hand-written, against protobufjs)', () => {
  it('is byte-identical to protobufjs for any request id and ids, "" and non-ASCII included', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 32 - 1 }), fc.array(anyId, { maxLength: 12 }), (requestId, ids) => {
        const mine = encodeOkIds(requestId, ids);
        const theirs = reference('ok', { request_id: requestId, message_ids: ids });
        expect(Buffer.compare(mine, theirs)).toBe(0);
        const [f] = parseFrames(mine);
        expect(f!.kind).toBe('ok');
        expect(f!.ok.message_ids ?? []).toEqual(ids);
      }),
      { numRuns: 300 },
    );
  });

  it('leaves the plain Ok of a request without want_ids exactly as version 1 wrote it', () => {
    for (const id of [0, 1, 127, 128, 300, 2 ** 32 - 1]) {
      expect(Buffer.compare(encodeOk(id), reference('ok', { request_id: id }))).toBe(0);
      // An Ok with no ids and the version 1 Ok are the same bytes: old clients see nothing new.
      expect(Buffer.compare(encodeOkIds(id, []), encodeOk(id))).toBe(0);
    }
  });

  it('reads as a version 1 Ok where the ids field is unknown (old clients ignore it)', () => {
    const v1 = protobuf
      .parse(
        'syntax = "proto3"; message Frame { oneof kind { Ok ok = 5; } } message Ok { uint32 request_id = 1; }',
        {
          keepCase: true,
        },
      )
      .root.lookupType('Frame');
    const bytes = encodeOkIds(9, ['ID:a:1', 'ID:a:2']);
    const f = v1.toObject(v1.decode(bytes.subarray(4)), { oneofs: true });
    expect(f).toEqual({ kind: 'ok', ok: { request_id: 9 } });
  });
});

describe('Send and SendBatch want_ids (hand-written decoder)', () => {
  it('decodes want_ids as protobufjs encoded it, with the other fields unchanged', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.nat({ max: 2 ** 32 - 1 }),
        fc.nat({ max: 2 ** 53 - 1 }),
        fc.boolean(),
        (want, requestId, sequence, batch) => {
          const message = { address: 'queue://q', body: Buffer.from('x') };
          const bytes = batch
            ? frame('send_batch', {
                request_id: requestId,
                messages: [message, message],
                producer_id: 'p',
                first_sequence: sequence,
                want_ids: want,
              })
            : frame('send', { request_id: requestId, message, producer_id: 'p', sequence, want_ids: want });
          const f = decodeFrame(bytes.subarray(4));
          if (f.kind !== 'send' && f.kind !== 'send_batch') throw new Error(f.kind);
          expect(f.value.want_ids).toBe(want);
          expect(f.value.request_id).toBe(requestId);
          if (f.kind === 'send') expect(f.value.sequence).toBe(sequence);
          else expect(f.value.first_sequence).toBe(sequence);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses want_ids with the wrong wire type as PROTOCOL', () => {
    // Send { want_ids (field 6) as LEN }: 0x32 0x00.
    const bad = Buffer.from([0x52, 0x02, 0x32, 0x00]);
    expect(() => decodeFrame(bad)).toThrow(/wire type/);
  });

  it('decodes DeleteTemporary (cold, through protobufjs)', () => {
    const f = decodeFrame(
      frame('delete_temporary', { request_id: 4, address: 'temp-queue://x' }).subarray(4),
    );
    expect(f).toEqual({ kind: 'delete_temporary', value: { request_id: 4, address: 'temp-queue://x' } });
  });
});

describe('version negotiation', () => {
  it('picks the highest common version; none listed = 1', () => {
    expect(negotiateVersion([])).toBe(1);
    expect(negotiateVersion([1])).toBe(1);
    expect(negotiateVersion([1, 2])).toBe(2);
    expect(negotiateVersion([2, 1, 9])).toBe(2);
    expect(negotiateVersion([3, 4])).toBeUndefined();
    expect(negotiateVersion([0])).toBeUndefined();
  });
});

describe('producer records and recent ids', () => {
  it('keeps the message id of the last sequence in the record; 16-byte records still read', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 53 - 1 }), fc.nat(), anyId, (sequence, lastUsed, id) => {
        expect(decodeRecord(encodeRecord(sequence, lastUsed, id))).toEqual({ sequence, lastUsed, id });
      }),
    );
    const legacy = new Uint8Array(16);
    new DataView(legacy.buffer).setFloat64(0, 41, true);
    expect(decodeRecord(legacy)).toEqual({ sequence: 41, lastUsed: 0, id: '' });
    expect(encodeRecord(41, 0)).toEqual(legacy);
    expect(decodeRecord(new Uint8Array(15))).toBeUndefined();
  });

  it('forgets the oldest ids beyond its capacity; a later send of a sequence wins', () => {
    const r = new RecentIds(3);
    r.remember('p', 1, 'a');
    r.remember('p', 2, 'b');
    r.remember('q', 1, 'c');
    r.remember('p', 1, 'a2');
    expect(r.get('p', 1)).toBe('a2');
    r.remember('p', 3, 'd');
    expect(r.size).toBe(3);
    expect(r.get('p', 2)).toBeUndefined();
    expect([r.get('q', 1), r.get('p', 3)]).toEqual(['c', 'd']);
    // Producer ids are free text: "1\0p" and "1" + "\0p" must not collide.
    r.remember('x\u00001', 2, 'e');
    expect(r.get('x', 1)).toBeUndefined();
    expect(new RecentIds(0).get('p', 1)).toBeUndefined();
  });
});
