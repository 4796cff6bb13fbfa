#!/usr/bin/env python3
"""Publishes messages to BlazeMQ over the native protocol.

    python3 publish.py queue://orders "hello" --count 3 --persistent --property region=eu --property n=1

Property values are typed from their text: true/false -> bool, null -> None, an integer -> int, a decimal
-> float, anything else (or "s:..." to force a string) -> str. The message's index (0, 1...) is added as
property `seq`; `{i}` in the body is replaced by it. Prints one JSON line per message sent.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blazemq_native import BlazeMQError, connect  # noqa: E402


def typed(text):
    if text.startswith('s:'):
        return text[2:]
    if text in ('true', 'false'):
        return text == 'true'
    if text == 'null':
        return None
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            pass
    return text


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('address')
    p.add_argument('body')
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=61616)
    p.add_argument('--login', default='')
    p.add_argument('--passcode', default='')
    p.add_argument('--count', type=int, default=1)
    p.add_argument('--persistent', action='store_true')
    p.add_argument('--priority', type=int)
    p.add_argument('--ttl', type=int, default=0, help='time to live, ms')
    p.add_argument('--correlation-id', default='')
    p.add_argument('--reply-to', default='')
    p.add_argument('--batch', action='store_true', help='send all messages in one SendBatch frame')
    p.add_argument('--property', action='append', default=[], metavar='KEY=VALUE')
    args = p.parse_args()

    base = {}
    for kv in args.property:
        key, _, value = kv.partition('=')
        base[key] = typed(value)
    try:
        with connect(args.host, args.port, login=args.login, passcode=args.passcode) as conn:
            entries = []
            for i in range(args.count):
                options = {
                    'persistent': args.persistent,
                    'priority': args.priority,
                    'time_to_live_ms': args.ttl,
                    'correlation_id': args.correlation_id,
                    'reply_to': args.reply_to,
                    'properties': dict(base, seq=i),
                }
                entries.append((args.address, args.body.replace('{i}', str(i)), options))
            if args.batch:
                conn.publish_batch(entries)
            else:
                for address, body, options in entries:
                    conn.publish(address, body, **options)
            for address, body, options in entries:
                print(json.dumps({'sent': body, 'address': address, 'properties': options['properties']}))
    except BlazeMQError as e:
        print(json.dumps({'error': e.code, 'message': e.message}))
        sys.exit(1)


if __name__ == '__main__':
    main()
