"""Interop scenarios driven by Debian's stomp.py (python3-stomp), run by test/integration/stomp-python.test.ts.

Usage: stomp_py.py PORT SCENARIO [LOGIN PASSCODE]. Prints one JSON object; exit 0 when the scenario's
assertions hold, 1 otherwise (the JSON says what was seen)."""
import json
import sys
import threading
import time
import uuid

import stomp

PORT = int(sys.argv[1])
SCENARIO = sys.argv[2]
LOGIN = sys.argv[3] if len(sys.argv) > 3 else None
PASSCODE = sys.argv[4] if len(sys.argv) > 4 else None
TAG = uuid.uuid4().hex[:8]


class Inbox(stomp.ConnectionListener):
    def __init__(self):
        self.messages = []
        self.errors = []
        self.cond = threading.Condition()

    def on_message(self, frame):
        with self.cond:
            self.messages.append(frame)
            self.cond.notify_all()

    def on_error(self, frame):
        with self.cond:
            self.errors.append(frame)
            self.cond.notify_all()

    def wait(self, n, timeout=5.0):
        end = time.time() + timeout
        with self.cond:
            while len(self.messages) < n and time.time() < end:
                self.cond.wait(end - time.time())
        return self.messages[:n]

    def wait_error(self, timeout=5.0):
        end = time.time() + timeout
        with self.cond:
            while not self.errors and time.time() < end:
                self.cond.wait(end - time.time())
        return self.errors[0] if self.errors else None


def connect(headers=None, login=LOGIN, passcode=PASSCODE):
    conn = stomp.Connection12([("127.0.0.1", PORT)], heartbeats=(0, 0), auto_content_length=True)
    inbox = Inbox()
    conn.set_listener("inbox", inbox)
    conn.connect(login, passcode, wait=True, headers=headers or {})
    return conn, inbox


def done(ok, **seen):
    print(json.dumps({"ok": bool(ok), **seen}))
    sys.exit(0 if ok else 1)


def bodies(frames):
    return [f.body for f in frames]


def scenario_queue():
    q = f"/queue/py.{TAG}"
    prod, _ = connect()
    cons, inbox = connect()
    cons.subscribe(q, id="s1", ack="client-individual")
    prod.send(q, "hello from python", headers={"x-lang": "python", "persistent": "true"}, receipt="r1")
    got = inbox.wait(1)
    ok = bodies(got) == ["hello from python"] and got[0].headers.get("x-lang") == "python"
    cons.ack(got[0].headers["ack"])
    done(ok, got=bodies(got), headers=got[0].headers if got else None)


def scenario_shared_queue():
    q = f"/queue/py.shared.{TAG}"
    a, ia = connect()
    b, ib = connect()
    a.subscribe(q, id="a", ack="auto", headers={"activemq.prefetchSize": "1"})
    b.subscribe(q, id="b", ack="auto", headers={"activemq.prefetchSize": "1"})
    time.sleep(0.1)
    p, _ = connect()
    for i in range(20):
        p.send(q, str(i))
    deadline = time.time() + 5
    while len(ia.messages) + len(ib.messages) < 20 and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    seen = sorted(bodies(ia.messages) + bodies(ib.messages), key=int)
    done(seen == [str(i) for i in range(20)] and ia.messages and ib.messages,
         a=len(ia.messages), b=len(ib.messages), total=len(seen))


def scenario_durable():
    t = f"/topic/py.durable.{TAG}"
    cid = f"py-client-{TAG}"
    sub_headers = {"activemq.subscriptionName": "py-sub"}
    c1, i1 = connect(headers={"client-id": cid})
    c1.subscribe(t, id="d", ack="auto", headers=sub_headers)
    time.sleep(0.1)
    c1.disconnect()
    p, _ = connect()
    p.send(t, "kept-1", receipt="k1")
    p.send(t, "kept-2", receipt="k2")
    time.sleep(0.2)
    c2, i2 = connect(headers={"client-id": cid})
    c2.subscribe(t, id="d", ack="auto", headers=sub_headers)
    got = i2.wait(2)
    done(bodies(got) == ["kept-1", "kept-2"], got=bodies(got))


def scenario_selector():
    q = f"/queue/py.sel.{TAG}"
    p, _ = connect()
    for sym, price in [("IBM", "12"), ("MSFT", "5"), ("ORCL", "50"), ("MSFT", "11")]:
        p.send(q, f"{sym}@{price}", headers={"sym": sym, "price": price})
    time.sleep(0.2)
    c, inbox = connect()
    c.subscribe(q, id="s", ack="auto", headers={"selector": "price > 10 AND sym IN ('IBM','MSFT')"})
    inbox.wait(3, timeout=1.0)
    done(bodies(inbox.messages) == ["IBM@12", "MSFT@11"], got=bodies(inbox.messages))


def scenario_transaction():
    q = f"/queue/py.tx.{TAG}"
    c, inbox = connect()
    c.subscribe(q, id="s", ack="auto")
    time.sleep(0.1)
    p, _ = connect()
    tx = p.begin()
    p.send(q, "in-aborted", transaction=tx)
    p.abort(tx)
    tx2 = p.begin()
    p.send(q, "in-committed", transaction=tx2)
    time.sleep(0.2)
    before = len(inbox.messages)
    p.commit(tx2)
    got = inbox.wait(1)
    time.sleep(0.2)
    done(before == 0 and bodies(inbox.messages) == ["in-committed"], before=before, got=bodies(inbox.messages))


def scenario_priority_expiry():
    q = f"/queue/py.prio.{TAG}"
    p, _ = connect()
    p.send(q, "stale", headers={"expires": str(int(time.time() * 1000) + 100)})
    for prio in [2, 8, 5]:
        p.send(q, f"p{prio}", headers={"priority": str(prio)}, receipt=f"p{prio}")
    time.sleep(0.4)
    c, inbox = connect()
    c.subscribe(q, id="s", ack="auto")
    inbox.wait(4, timeout=1.0)
    done(bodies(inbox.messages) == ["p8", "p5", "p2"], got=bodies(inbox.messages))


def scenario_auth_refused():
    try:
        connect(login="intruder", passcode="wrong")
    except stomp.exception.ConnectFailedException:
        done(True, refused=True)
    done(False, refused=False)


def scenario_acl_denied():
    # LOGIN may read/write queue://public.> only (see the test's ACL); writing elsewhere must fail.
    c, inbox = connect()
    c.send("/queue/secret.orders", "nope", receipt="deny")
    err = inbox.wait_error()
    ok_public = True
    done(err is not None and "secret" in (err.headers.get("message", "") + err.body) and ok_public,
         error=err.headers.get("message") if err else None)


def scenario_versions():
    """The same exchange with stomp.py's 1.0, 1.1 and 1.2 connection classes, client acks, custom headers
    with characters that need escaping in 1.1/1.2."""
    seen = {}
    for version, cls in (("1.0", stomp.Connection10), ("1.1", stomp.Connection11), ("1.2", stomp.Connection12)):
        q = f"/queue/py.v{version}.{TAG}"
        conn = cls([("127.0.0.1", PORT)])
        inbox = Inbox()
        conn.set_listener("inbox", inbox)
        conn.connect(LOGIN, PASSCODE, wait=True)
        if version == "1.0":
            conn.subscribe(q, id="s", ack="client")
        else:
            conn.subscribe(q, id="s", ack="client-individual")
        conn.send(q, f"hello {version}", headers={"x-colon": "a:b"})
        got = inbox.wait(1)
        if got:
            h = got[0].headers
            if version == "1.0":
                conn.ack(h["message-id"])
            elif version == "1.1":
                conn.ack(h["message-id"], h["subscription"])
            else:
                conn.ack(h["ack"])
            seen[version] = [got[0].body, h.get("x-colon")]
        conn.disconnect()
    ok = all(seen.get(v) == [f"hello {v}", "a:b"] for v in ("1.0", "1.1", "1.2"))
    done(ok, seen=seen)


SCENARIOS = {name[len("scenario_"):]: fn for name, fn in globals().items() if name.startswith("scenario_")}
if __name__ == "__main__":
    SCENARIOS[SCENARIO]()
