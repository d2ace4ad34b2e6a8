// The client's own reads are bounded: a giant or endless answer is refused after
// `maxBytes`, never held whole; integers come back as bigints, as kit parses them.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AnswerTooLarge, createBoundedTransport, parseWithBigInts, stringifyWithBigInts } from '../../src';

let server: Server;
let url = '';
let mode: 'ok' | 'giant' | 'endless' = 'ok';

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    res.setHeader('content-type', 'application/json');
    if (mode === 'ok')
      return res.end('{"jsonrpc":"2.0","id":1,"result":{"context":{"slot":18446744073709551615},"value":"a\\"1"}}');
    const chunk = Buffer.alloc(64 << 10, 0x20);
    if (mode === 'giant') {
      res.setHeader('content-length', String(64 << 20));
      res.write('{"result":"');
    }
    // endless: write until the client goes away
    const pump = () => {
      while (res.write(chunk)) {
        /* keep writing while the socket takes it */
      }
    };
    res.on('drain', pump);
    res.on('error', () => {});
    req.on('close', () => res.destroy());
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('the bounded transport', () => {
  it('parses integers as bigints and writes bigints as integers', async () => {
    mode = 'ok';
    const answer = (await createBoundedTransport(url)({ payload: { id: 1 } })) as {
      result: { context: { slot: bigint }; value: string };
    };
    expect(answer.result.context.slot).toBe(18446744073709551615n);
    expect(answer.result.value).toBe('a"1');
    expect(stringifyWithBigInts({ a: 2n ** 63n, b: 'x', c: [1n] })).toBe('{"a":9223372036854775808,"b":"x","c":[1]}');
    expect(parseWithBigInts('[-5, 1.5, "7", {"k": 1e3}]')).toEqual([-5n, 1.5, '7', { k: 1000 }]);
  });

  it('refuses a giant answer by its declared length, and an endless one after the cap', async () => {
    mode = 'giant';
    await expect(createBoundedTransport(url, 1 << 20)({ payload: { id: 1 } })).rejects.toBeInstanceOf(AnswerTooLarge);
    mode = 'endless';
    await expect(createBoundedTransport(url, 1 << 20)({ payload: { id: 1 } })).rejects.toBeInstanceOf(AnswerTooLarge);
  });
});
