"""Interop scenarios driven by Debian's paho-mqtt (python3-paho-mqtt, 1.6 API), run by
test/integration/mqtt-python.test.ts.

Usage: paho_mqtt.py PORT SCENARIO. Prints one JSON object; exit 0 when the scenario's assertions hold,
1 otherwise (the JSON says what was seen)."""
import json
import sys
import threading
import time
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

PORT = int(sys.argv[1])
SCENARIO = sys.argv[2]
TAG = uuid.uuid4().hex[:8]


class Peer:
    """One client with its loop thread and an inbox of (topic, payload, qos, retain, properties)."""

    def __init__(self, client_id, v5=False, clean=True, will=None, expiry=None):
        self.v5 = v5
        kwargs = {'protocol': mqtt.MQTTv5} if v5 else {'protocol': mqtt.MQTTv311, 'clean_session': clean}
        self.c = mqtt.Client(client_id=client_id, **kwargs)
        self.inbox = []
        self.cond = threading.Condition()
        self.connack = None
        self.c.on_message = self._on_message
        self.c.on_connect = self._on_connect
        if will:
            self.c.will_set(*will)
        props = None
        if v5 and expiry is not None:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = expiry
        if v5:
            self.c.connect('127.0.0.1', PORT, keepalive=30, clean_start=clean, properties=props)
        else:
            self.c.connect('127.0.0.1', PORT, keepalive=30)
        self.c.loop_start()
        self.wait(lambda: self.connack is not None)

    def _on_connect(self, client, userdata, flags, rc, properties=None):
        with self.cond:
            self.connack = (flags, int(rc) if not hasattr(rc, 'value') else rc.value)
            self.cond.notify_all()

    def _on_message(self, client, userdata, m):
        props = {}
        if self.v5 and m.properties is not None:
            p = m.properties
            for name in ('UserProperty', 'ContentType', 'ResponseTopic', 'CorrelationData'):
                if hasattr(p, name):
                    v = getattr(p, name)
                    props[name] = v.decode() if isinstance(v, bytes) else v
        with self.cond:
            self.inbox.append((m.topic, m.payload.decode(), m.qos, bool(m.retain), props))
            self.cond.notify_all()

    def wait(self, pred, timeout=10):
        end = time.time() + timeout
        with self.cond:
            while not pred():
                left = end - time.time()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True

    def wait_messages(self, n, timeout=10):
        self.wait(lambda: len(self.inbox) >= n, timeout)
        return self.inbox

    def subscribe(self, topic, qos):
        done = threading.Event()
        self.c.on_subscribe = lambda *a, **k: done.set()
        self.c.subscribe(topic, qos)
        done.wait(10)

    def stop(self, clean=True):
        if clean:
            self.c.disconnect()
        else:
            # Abrupt: close the socket without DISCONNECT.
            self.c.socket().close()
        self.c.loop_stop()


def result(ok, **seen):
    print(json.dumps({'ok': ok, **seen}, default=str))
    sys.exit(0 if ok else 1)


def qos():
    sub = Peer(f'sub-{TAG}')
    sub.subscribe(f'{TAG}/+/c', 2)
    pub = Peer(f'pub-{TAG}')
    for q in (0, 1, 2):
        pub.c.publish(f'{TAG}/b/c', f'm{q}', qos=q).wait_for_publish(10)
    got = sub.wait_messages(3)
    pub.stop()
    sub.stop()
    result(sorted((m[1], m[2]) for m in got) == [('m0', 0), ('m1', 1), ('m2', 2)], got=got)


def v5_properties():
    sub = Peer(f'sub-{TAG}', v5=True)
    sub.subscribe(f'{TAG}/req', 1)
    pub = Peer(f'pub-{TAG}', v5=True)
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = [('k', 'v')]
    props.ContentType = 'text/plain'
    props.ResponseTopic = f'{TAG}/reply'
    props.CorrelationData = b'corr-1'
    pub.c.publish(f'{TAG}/req', 'ask', qos=1, properties=props).wait_for_publish(10)
    got = sub.wait_messages(1)
    pub.stop()
    sub.stop()
    p = got[0][4] if got else {}
    ok = (
        len(got) == 1
        and p.get('UserProperty') == [('k', 'v')]
        and p.get('ContentType') == 'text/plain'
        and p.get('ResponseTopic') == f'{TAG}/reply'
        and p.get('CorrelationData') == 'corr-1'
    )
    result(ok, got=got)


def retained():
    pub = Peer(f'pub-{TAG}')
    pub.c.publish(f'{TAG}/status', 'online', qos=1, retain=True).wait_for_publish(10)
    sub = Peer(f'sub-{TAG}')
    sub.subscribe(f'{TAG}/#', 1)
    got = sub.wait_messages(1)
    pub.c.publish(f'{TAG}/status', '', qos=1, retain=True).wait_for_publish(10)
    late = Peer(f'late-{TAG}')
    late.subscribe(f'{TAG}/#', 1)
    time.sleep(0.3)
    for p in (pub, sub, late):
        p.stop()
    result(got[:1] == [(f'{TAG}/status', 'online', 1, True, {})] and late.inbox == [], got=got, late=late.inbox)


def will():
    watcher = Peer(f'w-{TAG}')
    watcher.subscribe(f'{TAG}/will', 1)
    dying = Peer(f'd-{TAG}', will=(f'{TAG}/will', 'gone', 1, False))
    dying.stop(clean=False)
    got = watcher.wait_messages(1)
    watcher.stop()
    result([m[1] for m in got] == ['gone'], got=got)


def persistent():
    cid = f'dev-{TAG}'
    dev = Peer(cid, clean=False)
    dev.subscribe(f'{TAG}/cmd', 1)
    dev.stop()
    pub = Peer(f'pub-{TAG}')
    for i in range(3):
        pub.c.publish(f'{TAG}/cmd', f'c{i}', qos=1).wait_for_publish(10)
    pub.stop()
    again = Peer(cid, clean=False)
    got = again.wait_messages(3)
    again.stop()
    present = again.connack[0].get('session present')
    result(present == 1 and [m[1] for m in got] == ['c0', 'c1', 'c2'], present=present, got=got)


def shared():
    a = Peer(f'a-{TAG}', v5=True)
    b = Peer(f'b-{TAG}', v5=True)
    a.subscribe(f'$share/g/{TAG}/jobs', 1)
    b.subscribe(f'$share/g/{TAG}/jobs', 1)
    pub = Peer(f'pub-{TAG}', v5=True)
    for i in range(10):
        pub.c.publish(f'{TAG}/jobs', f'j{i}', qos=1).wait_for_publish(10)
    a.wait(lambda: len(a.inbox) + len(b.inbox) >= 10)
    time.sleep(0.2)
    for p in (a, b, pub):
        p.stop()
    ids = sorted([m[1] for m in a.inbox + b.inbox])
    result(ids == sorted(f'j{i}' for i in range(10)) and len(a.inbox) > 0 and len(b.inbox) > 0,
           a=len(a.inbox), b=len(b.inbox))


{'qos': qos, 'v5_properties': v5_properties, 'retained': retained, 'will': will, 'persistent': persistent,
 'shared': shared}[SCENARIO]()
