/**
 * The frames a client receives per message, decoded by hand: Deliver (every delivery of a broker turn)
 * and Ok (the answer to each Send and Ack). Every other frame stays on protobufjs (codec.ts).
 *
 *   Frame.ok       field 5   Ok       1 request_id | 2 message_ids (repeated string)
 *   Frame.deliver  field 24  Deliver  1 deliveries (repeated Delivery)
 *   Delivery  1 subscription_id | 2 tag (uint64) | 3 message (Message, util/native-message.ts)
 *             | 4 redelivered | 5 delivery_count
 *
 * Why by hand: protobufjs' decode plus toObject of a Deliver was ~10 % of a library consumer's CPU, and
 * its intermediate message objects a good part of the GC (docs/CLIENT.md "Performance").
 *
 * Shapes: Deliver's deliveries and their messages have every field, defaults filled (one hidden class
 * for all); Ok is exactly what protobufjs' toObject gives (request_id and message_ids only when on the
 * wire), so that callers cannot tell the two decoders apart.
 */

import { decodeMessage } from '../../util/native-message.js';
import type { DecodedFrame, Delivery } from './frames.js';
import { malformed, type Reader, WT_LEN, WT_VARINT } from './reader.js';

/** Decodes the Deliver occupying r.pos..end (the reader's end). */
export function decodeDeliver(r: Reader): DecodedFrame {
  const deliveries: Delivery[] = [];
  while (r.pos < r.end) {
    const tag = r.uint32();
    const wt = tag & 7;
    if (tag >>> 3 === 1) {
      r.expect(wt, WT_LEN, 'Deliver.deliveries');
      deliveries.push(decodeDelivery(r, r.lenEnd()));
    } else r.skip(wt);
  }
  return { kind: 'deliver', deliver: { deliveries } } as DecodedFrame;
}

function decodeDelivery(r: Reader, end: number): Delivery {
  const d: Delivery = {
    subscription_id: 0,
    tag: 0,
    message: undefined,
    redelivered: false,
    delivery_count: 0,
  };
  const outer = r.end;
  r.end = end;
  while (r.pos < end) {
    const tag = r.uint32();
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        r.expect(wt, WT_VARINT, 'Delivery.subscription_id');
        d.subscription_id = r.uint32();
        break;
      case 2:
        r.expect(wt, WT_VARINT, 'Delivery.tag');
        d.tag = r.uint64();
        break;
      case 3:
        r.expect(wt, WT_LEN, 'Delivery.message');
        d.message = decodeMessage(r, r.lenEnd());
        break;
      case 4:
        r.expect(wt, WT_VARINT, 'Delivery.redelivered');
        d.redelivered = r.bool();
        break;
      case 5:
        r.expect(wt, WT_VARINT, 'Delivery.delivery_count');
        d.delivery_count = r.uint32();
        break;
      default:
        r.skip(wt);
    }
  }
  if (r.pos !== end) throw malformed('Delivery overruns its length');
  r.end = outer;
  return d;
}

/** Decodes the Ok occupying r.pos..end. */
export function decodeOk(r: Reader): DecodedFrame {
  const ok: { request_id?: number; message_ids?: string[] } = {};
  while (r.pos < r.end) {
    const tag = r.uint32();
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        r.expect(wt, WT_VARINT, 'Ok.request_id');
        ok.request_id = r.uint32();
        break;
      case 2:
        r.expect(wt, WT_LEN, 'Ok.message_ids');
        if (ok.message_ids === undefined) ok.message_ids = [];
        ok.message_ids.push(r.string());
        break;
      default:
        r.skip(wt);
    }
  }
  return { kind: 'ok', ok } as DecodedFrame;
}
