"""Echo agent (agent_protocol.md) on python3-autobahn's asyncio client.

  autobahn_agent.py URL [--connections N] [--deflate off|JSON] [--ca FILE]
JSON: keyword arguments of PerMessageDeflateOffer, e.g. {"request_max_window_bits": 9}.
Autobahn writes the request's Upgrade token as "WebSocket" (RFC 6455 §4.1 allows any case).
"""
import argparse
import asyncio
import json
import ssl
import sys
from urllib.parse import urlparse

import txaio

txaio.use_asyncio()

from autobahn.asyncio.websocket import WebSocketClientFactory, WebSocketClientProtocol  # noqa: E402
from autobahn.websocket.compress import (  # noqa: E402
    PerMessageDeflateOffer,
    PerMessageDeflateResponse,
    PerMessageDeflateResponseAccept,
)


class Agent(WebSocketClientProtocol):
    def onMessage(self, payload, isBinary):
        if not isBinary and payload.startswith(b'cmd:'):
            if payload == b'cmd:fragment':
                self.sendMessage(b'fragmented-message' * 200, False, fragmentSize=1000)
            elif payload == b'cmd:ping':
                self.sendPing(b'agent-ping')
            elif payload == b'cmd:close':
                self.sendClose(4002, 'peer-bye')
        else:
            self.sendMessage(payload, isBinary)

    def onPong(self, payload):
        self.sendMessage(b'pong:' + payload, False)

    def onClose(self, wasClean, code, reason):
        print(f'CLOSED {code} {reason or ""}', flush=True)
        self.factory.closed.set_result(wasClean)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('url')
    parser.add_argument('--connections', type=int, default=1)
    parser.add_argument('--deflate', default='off')
    parser.add_argument('--ca')
    args = parser.parse_args()
    url = urlparse(args.url)
    context = ssl.create_default_context(cafile=args.ca) if url.scheme == 'wss' else None
    loop = asyncio.get_running_loop()
    for _ in range(args.connections):
        factory = WebSocketClientFactory(args.url)
        factory.protocol = Agent
        factory.closed = loop.create_future()
        options = {'maxMessagePayloadSize': 0, 'maxFramePayloadSize': 0, 'autoFragmentSize': 0}
        if args.deflate != 'off':
            options['perMessageCompressionOffers'] = [PerMessageDeflateOffer(**json.loads(args.deflate))]
            options['perMessageCompressionAccept'] = lambda response: (
                PerMessageDeflateResponseAccept(response) if isinstance(response, PerMessageDeflateResponse) else None)
        factory.setProtocolOptions(**options)
        await loop.create_connection(factory, url.hostname, url.port, ssl=context,
                                     server_hostname=url.hostname if context else None)
        if not await asyncio.wait_for(factory.closed, 30):
            sys.exit(1)  # the handshake failed or the connection broke


if __name__ == '__main__':
    asyncio.run(main())
