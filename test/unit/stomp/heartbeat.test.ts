import { describe, expect, it } from 'vitest';
import { DEFAULT_HEARTBEAT } from '../../../src/protocol/stomp/index.js';
import { negotiateHeartbeat, negotiateVersion } from '../../../src/protocol/stomp/negotiate.js';
import { Peer } from './fakes.js';

describe('negotiation (pure)', () => {
  it('versions', () => {
    expect(negotiateVersion(undefined)).toBe('1.0');
    expect(negotiateVersion('1.0')).toBe('1.0');
    expect(negotiateVersion('1.1, 1.0')).toBe('1.1');
    expect(negotiateVersion('1.2,1.1')).toBe('1.2');
    expect(negotiateVersion('2.0,3')).toBeNull();
  });

  it('heart-beats: max of both sides, 0 when either side declines', () => {
    const ours = { sendMs: 5000, receiveMs: 10000, graceFactor: 2 };
    expect(negotiateHeartbeat('1000,20000', ours)).toEqual({
      sendEvery: 20000,
      expectEvery: 10000,
      header: '20000,10000',
    });
    expect(negotiateHeartbeat('0,1000', ours)).toEqual({ sendEvery: 5000, expectEvery: 0, header: '5000,0' });
    expect(negotiateHeartbeat('15000,0', ours)).toEqual({
      sendEvery: 0,
      expectEvery: 15000,
      header: '0,15000',
    });
    expect(negotiateHeartbeat(undefined, ours)).toEqual({ sendEvery: 0, expectEvery: 0, header: '0,0' });
    expect(negotiateHeartbeat('1000,1000', { ...ours, sendMs: 0, receiveMs: 0 }).header).toBe('0,0');
    expect(() => negotiateHeartbeat('1000', ours)).toThrow(/heart-beat/);
    expect(DEFAULT_HEARTBEAT.graceFactor).toBeGreaterThanOrEqual(1.5);
  });
});

describe('heart-beating on a session', () => {
  const heartbeat = { sendMs: 1000, receiveMs: 1000, graceFactor: 2 };

  it('sends an EOL when nothing else was written for the agreed interval', async () => {
    const p = new Peer({ heartbeat });
    const f = await p.connect({ 'accept-version': '1.2', 'heart-beat': '0,1000' });
    expect(f.headers['heart-beat']).toBe('1000,0');
    p.timers.advance(999);
    p.read();
    expect(p.heartbeats).toBe(0);
    p.timers.advance(1);
    p.read();
    expect(p.heartbeats).toBe(1);
    p.timers.advance(10_000);
    p.read();
    expect(p.heartbeats).toBe(11);
    expect(p.transport.ended).toBe(false);
  });

  it('sends no EOL while other frames keep the connection busy', async () => {
    const p = new Peer({ heartbeat });
    await p.connect({ 'accept-version': '1.2', 'heart-beat': '0,1000' });
    p.frame('SUBSCRIBE', { id: 's', destination: '/queue/a' });
    for (let i = 0; i < 20; i++) {
      p.conn.subscriptions[0]!.push();
      p.timers.advance(400);
    }
    p.read();
    expect(p.heartbeats).toBe(0);
  });

  it('closes a client silent for more than interval x grace, not before', async () => {
    const p = new Peer({ heartbeat });
    const f = await p.connect({ 'accept-version': '1.2', 'heart-beat': '1000,0' });
    expect(f.headers['heart-beat']).toBe('0,1000');
    for (let i = 0; i < 10; i++) {
      p.timers.advance(1500);
      p.send('\n');
    }
    expect(p.transport.ended).toBe(false);
    p.timers.advance(2000);
    expect(p.transport.ended).toBe(false);
    p.timers.advance(1000);
    const err = p.one();
    expect(err.command).toBe('ERROR');
    expect(err.headers['message']).toMatch(/heart-beat/);
    expect(p.transport.ended).toBe(true);
    expect(p.conn.closed).toBe(true);
    expect(p.timers.pending).toBe(0);
  });

  it('does not time out a client we stopped reading (our own flow control)', async () => {
    const p = new Peer({ heartbeat, limits: { maxInflight: 1 } });
    await p.connect({ 'accept-version': '1.2', 'heart-beat': '1000,0' });
    p.conn.sendResult = () => new Promise(() => {});
    p.frame('SEND', { destination: '/queue/a', persistent: 'true' });
    expect(p.transport.readingPaused).toBe(true);
    p.timers.advance(10_000);
    expect(p.transport.ended).toBe(false);
  });

  it('1.0 has no heart-beats', async () => {
    const p = new Peer({ heartbeat });
    await p.connect({ 'heart-beat': '1000,1000' });
    expect(p.timers.pending).toBe(0);
  });

  it('stops its timers when the connection closes', async () => {
    const p = new Peer({ heartbeat });
    await p.connect({ 'accept-version': '1.2', 'heart-beat': '1000,1000' });
    expect(p.timers.pending).toBe(2);
    p.session.onClose();
    expect(p.timers.pending).toBe(0);
  });
});
