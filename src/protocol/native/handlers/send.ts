/**
 * Send and SendBatch (native.proto "producing"): wire Message -> MessageInit, one `core.send` each (or
 * `sendForId` when the request asks for the ids: `want_ids`, answered with Ok{message_ids}).
 * The answer goes out once every message is accepted (persistent: durable in the store), in request
 * order; until then the request counts against the in-flight limit.
 *
 * Duplicate detection: a (producer_id, sequence) already accepted is answered Ok without routing
 * (producers.ts). Inside a transaction (tx_id) the same check applies against committed sequences, but
 * the sequence is only held by the transaction: it counts as accepted once the transaction commits.
 */
import type { MessageInit, PropertyValue } from '../../../core/message.js';
import { ACCEPTED } from '../../../core/store-writer.js';
import { BlazeError } from '../../../util/errors.js';
import type { Timers } from '../../../util/timers.js';
import { propertyOf } from '../codec/message.js';
import { encodeOkIds } from '../codec/ok-ids.js';
import type { Send, SendBatch, WireMessage } from '../codec/types.js';
import type { NativeSession } from '../session.js';

/**
 * The clock is asked only for a message with a time to live: most have none, and the clock is a native call
 * per message (~1 % of the broker's time in a 1 KiB SendBatch profile).
 */
export function toMessageInit(m: WireMessage, clock: Pick<Timers, 'now'>): MessageInit {
  const init: MessageInit = { address: m.address, body: m.body, persistent: m.persistent };
  if (m.priority !== undefined) init.priority = m.priority;
  // JMS time to live is relative to the broker's clock; an absolute expiration is taken as given.
  if (m.time_to_live_ms > 0) init.expiration = clock.now() + m.time_to_live_ms;
  else if (m.expiration > 0) init.expiration = m.expiration;
  if (m.correlation_id !== '') init.correlationId = m.correlation_id;
  if (m.reply_to !== '') init.replyTo = m.reply_to;
  if (m.group_id !== '') init.groupId = m.group_id;
  if (m.content_type !== '') init.contentType = m.content_type;
  let props: Record<string, PropertyValue> | undefined;
  for (const key in m.properties) {
    props ??= Object.create(null) as Record<string, PropertyValue>;
    props[key] = propertyOf(m.properties[key]!);
  }
  if (props !== undefined) init.properties = props;
  return init;
}

function checkMessage(m: WireMessage): void {
  if (m.address === '') throw new BlazeError('INVALID_ADDRESS', 'Send without a message address');
}

/**
 * `core.send`, or with `ids` (a Send with `want_ids`, native.proto version 2) `sendForId`, pushing the id
 * the core gave ('' when this core connection cannot tell). A refusal is a rejected promise either way,
 * so that a batch behaves the same with or without ids.
 */
function route(
  session: NativeSession,
  init: MessageInit,
  txId: string | undefined,
  ids: string[] | undefined,
): Promise<void> {
  const conn = session.conn;
  if (ids === undefined) return conn.send(init, txId);
  if (conn.sendForId === undefined) {
    ids.push('');
    return conn.send(init, txId);
  }
  try {
    const sent = conn.sendForId(init, txId);
    ids.push(sent.id);
    return sent.accepted;
  } catch (e) {
    ids.push('');
    return Promise.reject(e);
  }
}

/**
 * Routes one message unless it is a duplicate; returns the core's promise (ACCEPTED when nothing waits).
 * With `ids`, pushes the message's id, or for a duplicate the id its first send was given (producers.ts
 * keeps it; '' once forgotten). Inside a transaction the id is assigned when the message is buffered and
 * the message keeps it through commit, so the client knows it before committing.
 */
function sendOne(
  session: NativeSession,
  m: WireMessage,
  txId: string | undefined,
  producerId: string,
  sequence: number,
  ids: string[] | undefined,
): Promise<void> {
  const producers = session.producers;
  if (producerId !== '' && txId !== undefined) {
    const txKey = session.txKeyOf(txId);
    if (txKey !== undefined && producers.isDuplicateInTransaction(txKey, producerId, sequence)) {
      ids?.push(producers.idOf(producerId, sequence));
      return ACCEPTED;
    }
    checkMessage(m);
    const promise = route(session, toMessageInit(m, session.settings.timers), txId, ids);
    // A transactional send the core took is answered with ACCEPTED itself; anything else was refused.
    if (txKey !== undefined && promise === ACCEPTED) {
      producers.holdInTransaction(txKey, producerId, sequence);
      if (ids !== undefined) producers.rememberId(producerId, sequence, ids[ids.length - 1]!);
    }
    return promise;
  }
  const dedupe = producerId !== '';
  if (dedupe && producers.isDuplicate(producerId, sequence)) {
    ids?.push(producers.idOf(producerId, sequence));
    return ACCEPTED;
  }
  checkMessage(m);
  const promise = route(session, toMessageInit(m, session.settings.timers), txId, ids);
  if (dedupe) {
    const id = ids === undefined ? '' : ids[ids.length - 1]!;
    producers.accept(producerId, sequence, m.persistent, id);
    if (id !== '') producers.rememberId(producerId, sequence, id);
  }
  return promise;
}

export function handleSend(session: NativeSession, f: Send): void {
  const txId = f.tx_id === '' ? undefined : f.tx_id;
  if (!f.want_ids) {
    session.track(f.request_id, sendOne(session, f.message, txId, f.producer_id, f.sequence, undefined));
    return;
  }
  const ids: string[] = [];
  const accepted = sendOne(session, f.message, txId, f.producer_id, f.sequence, ids);
  session.track(f.request_id, accepted, () => encodeOkIds(f.request_id, ids));
}

export function handleSendBatch(session: NativeSession, f: SendBatch): void {
  const txId = f.tx_id === '' ? undefined : f.tx_id;
  // All-or-nothing as far as validation goes: a bad message refuses the batch before any is routed.
  for (const m of f.messages) checkMessage(m);
  const ids = f.want_ids ? ([] as string[]) : undefined;
  // Sends of one turn share the store batch's promise: keep the distinct ones only.
  const waits: Promise<void>[] = [];
  for (let i = 0; i < f.messages.length; i++) {
    const p = sendOne(session, f.messages[i]!, txId, f.producer_id, f.first_sequence + i, ids);
    if (p !== ACCEPTED && waits[waits.length - 1] !== p) waits.push(p);
  }
  const all = waits.length === 0 ? ACCEPTED : waits.length === 1 ? waits[0]! : Promise.all(waits);
  if (ids === undefined) session.track(f.request_id, all);
  else session.track(f.request_id, all, () => encodeOkIds(f.request_id, ids));
}
