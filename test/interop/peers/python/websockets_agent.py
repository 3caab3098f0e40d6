"""Echo agent (agent_protocol.md) on python3-websockets 10.x, as client or server.

  websockets_agent.py client URL [--connections N] [--deflate off|on|JSON] [--ca FILE]
  websockets_agent.py server [--deflate off|on|JSON] [--tls CERT KEY]
JSON: keyword arguments of Client/ServerPerMessageDeflateFactory, e.g. {"server_max_window_bits": 10}.
"""
import argparse
import asyncio
import json
import ssl
import sys

import websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory, ServerPerMessageDeflateFactory

FRAGMENTS = ['fragmented-message'] * 200


def say(line):
    print(line, flush=True)


async def agent(ws):
    try:
        async for message in ws:
            if isinstance(message, str) and message.startswith('cmd:'):
                if message == 'cmd:fragment':
                    await ws.send(FRAGMENTS)  # an iterable is sent as one fragmented message
                elif message == 'cmd:ping':
                    await (await ws.ping(b'agent-ping'))  # resolves on the matching pong
                    await ws.send('pong:agent-ping')
                elif message == 'cmd:close':
                    await ws.close(4002, 'peer-bye')
            else:
                await ws.send(message)
    except websockets.ConnectionClosed:
        pass
    await ws.wait_closed()
    say(f'CLOSED {ws.close_code} {ws.close_reason}')


def deflate_options(spec, factory):
    if spec == 'off':
        return {'compression': None}
    if spec == 'on':
        return {'compression': 'deflate'}
    return {'compression': None, 'extensions': [factory(**json.loads(spec))]}


async def client(args):
    context = None
    if args.url.startswith('wss:'):
        context = ssl.create_default_context(cafile=args.ca)
    for _ in range(args.connections):
        async with websockets.connect(args.url, ssl=context, max_size=None, ping_interval=None,
                                      **deflate_options(args.deflate, ClientPerMessageDeflateFactory)) as ws:
            await agent(ws)


async def server(args):
    context = None
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls[0], args.tls[1])
    async with websockets.serve(agent, '127.0.0.1', 0, ssl=context, max_size=None, ping_interval=None,
                                **deflate_options(args.deflate, ServerPerMessageDeflateFactory)) as running:
        say(f'READY {running.sockets[0].getsockname()[1]}')
        await asyncio.Future()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('role', choices=['client', 'server'])
    parser.add_argument('url', nargs='?')
    parser.add_argument('--connections', type=int, default=1)
    parser.add_argument('--deflate', default='off')
    parser.add_argument('--ca')
    parser.add_argument('--tls', nargs=2)
    args = parser.parse_args()
    asyncio.run(client(args) if args.role == 'client' else server(args))


if __name__ == '__main__':
    sys.exit(main())
