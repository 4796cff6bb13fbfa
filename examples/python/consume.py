#!/usr/bin/env python3
"""Consumes messages from BlazeMQ over the native protocol, with credit-based flow control.

    python3 consume.py queue://orders --count 3 --credit 10 --timeout 5

Prints one JSON line per message (body as text, or base64 when it is not UTF-8), acknowledging each
after printing it. Exits after --count messages, or when none arrived for --timeout seconds (status 3
if fewer than --count arrived).
"""
import argparse
import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blazemq_native import BlazeMQError, connect  # noqa: E402


def as_json(m):
    out = {
        'id': m.id,
        'address': m.address,
        'persistent': m.persistent,
        'priority': m.priority,
        'correlation_id': m.correlation_id,
        'reply_to': m.reply_to,
        'content_type': m.content_type,
        'redelivered': m.redelivered,
        'delivery_count': m.delivery_count,
        'properties': m.properties,
    }
    try:
        out['body'] = m.body.decode('utf-8')
    except UnicodeDecodeError:
        out['body_base64'] = base64.b64encode(m.body).decode('ascii')
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('address')
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=61616)
    p.add_argument('--login', default='')
    p.add_argument('--passcode', default='')
    p.add_argument('--count', type=int, default=1)
    p.add_argument('--credit', type=int, default=10)
    p.add_argument('--ack-mode', default='individual', choices=['individual', 'cumulative', 'auto'])
    p.add_argument('--selector', default='')
    p.add_argument('--timeout', type=float, default=5.0, help='seconds to wait for each message')
    p.add_argument('--ready-file', help='created once the subscription exists (for topics)')
    args = p.parse_args()

    try:
        with connect(args.host, args.port, login=args.login, passcode=args.passcode) as conn:
            sub = conn.subscribe(args.address, credit=args.credit, ack_mode=args.ack_mode,
                                 selector=args.selector)
            if args.ready_file:
                open(args.ready_file, 'w').close()
            got = 0
            while got < args.count:
                m = sub.receive(timeout=args.timeout)
                if m is None:
                    break
                print(json.dumps(as_json(m)), flush=True)
                m.ack()
                got += 1
            sub.close()
    except BlazeMQError as e:
        print(json.dumps({'error': e.code, 'message': e.message}))
        sys.exit(1)
    sys.exit(0 if got == args.count else 3)


if __name__ == '__main__':
    main()
