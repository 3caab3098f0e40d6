"""Autobahn fuzzingserver client driver on python3-websockets 10.x (Debian):
the loop every project runs against `wstest -m fuzzingserver`.

  websockets_driver.py BASE_URL AGENT [deflate]
With `deflate`, the cases offer permessage-deflate (the library's default offer).
Prints `CASES <n>` when done.
"""
import asyncio
import json
import sys

import websockets


async def main(base, agent, compression):
    async with websockets.connect(f'{base}/getCaseCount') as ws:
        count = json.loads(await ws.recv())
    for case in range(1, count + 1):
        try:
            async with websockets.connect(f'{base}/runCase?case={case}&agent={agent}', max_size=None,
                                          compression=compression, ping_interval=None) as ws:
                async for message in ws:
                    await ws.send(message)
        except websockets.WebSocketException:
            pass  # the cases provoke protocol errors on purpose
    async with websockets.connect(f'{base}/updateReports?agent={agent}') as ws:
        try:
            await ws.recv()
        except websockets.ConnectionClosed:
            pass
    print(f'CASES {count}', flush=True)


if __name__ == '__main__':
    asyncio.run(main(sys.argv[1], sys.argv[2], 'deflate' if sys.argv[3:] == ['deflate'] else None))
