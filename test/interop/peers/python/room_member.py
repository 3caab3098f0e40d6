"""A python-websockets client as a room member: prints what it receives.

Usage: room_member.py URL (nct|off)
  nct: offer permessage-deflate with server_no_context_takeover
  off: no compression
Prints "OPEN <Sec-WebSocket-Extensions>", then "MSG <text|binary> <length> <sha256>"
per message, and "DONE" after the text message "bye" (then closes with 1000).
"""
import asyncio
import hashlib
import sys

import websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory


async def main(url: str, mode: str) -> None:
    extensions = [ClientPerMessageDeflateFactory(server_no_context_takeover=True, client_max_window_bits=True)] if mode == "nct" else None
    async with websockets.connect(url, extensions=extensions, compression=None, max_size=None) as ws:
        print("OPEN", ws.response_headers.get("Sec-WebSocket-Extensions", ""), flush=True)
        async for message in ws:
            if message == "bye":
                print("DONE", flush=True)
                return
            data = message.encode() if isinstance(message, str) else message
            kind = "text" if isinstance(message, str) else "binary"
            print("MSG", kind, len(data), hashlib.sha256(data).hexdigest(), flush=True)


asyncio.run(main(sys.argv[1], sys.argv[2]))
