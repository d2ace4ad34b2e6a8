// A JSON-RPC transport that reads at most `maxBytes` of an answer: what the client uses for
// its own reads of the chain (the topology, the network's accounts), so a hostile or
// broken RPC cannot exhaust a page's memory with a giant or endless body. Users' own
// requests go through the failover transport untouched (their answers may be large).
//
// Integers in answers become bigints, as kit's own Solana transport parses them (values
// past 2^53 keep their precision; kit's response transformers expect it).
import { SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR, SolanaError, type RpcTransport } from '@solana/kit';

/** The most the client reads of one answer to its own reads: a Topology is ~10 KB as JSON. */
export const DEFAULT_MAX_ANSWER_BYTES = 1 << 20;

export class AnswerTooLarge extends Error {
  constructor(url: string, maxBytes: number) {
    super(`${url} answered more than ${maxBytes} bytes`);
    this.name = 'AnswerTooLarge';
  }
}

/** JSON with bigints written as plain integers (what a JSON-RPC server expects). */
export function stringifyWithBigInts(value: unknown): string {
  const marks: string[] = [];
  // A marker no real string holds (a fresh nonce per call), replaced by the number.
  const nonce = Math.random().toString(36).slice(2);
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'bigint') return v;
    marks.push(v.toString());
    return `__bigint_${nonce}_${marks.length - 1}__`;
  });
  return text.replace(new RegExp(`"__bigint_${nonce}_(\\d+)__"`, 'g'), (_m, i: string) => marks[Number(i)]!);
}

/** JSON.parse, with every integer outside strings parsed as a bigint. */
export function parseWithBigInts(text: string): unknown {
  let out = '';
  let inString = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (c === '"') inString = false;
      i++;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      i++;
      continue;
    }
    if (c === '-' || (c >= '0' && c <= '9')) {
      let j = i + 1;
      while (j < text.length && /[0-9.eE+-]/.test(text[j]!)) j++;
      const token = text.slice(i, j);
      // written as the JSON escape \u0000, parsed back into the key '\u0000n'
      out += /^-?\d+$/.test(token) ? `{"\\u0000n":"${token}"}` : token;
      i = j;
      continue;
    }
    out += c;
    i++;
  }
  return JSON.parse(out, (_key, v: unknown) =>
    v && typeof v === 'object' && '\u0000n' in v ? BigInt((v as Record<string, string>)['\u0000n']!) : v,
  );
}

/** Reads `response`'s body, refusing more than `maxBytes`. */
async function readCapped(url: string, response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw new AnswerTooLarge(url, maxBytes);
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new AnswerTooLarge(url, maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** A transport to `url` that reads at most `maxBytes` of each answer. */
export function createBoundedTransport(url: string, maxBytes = DEFAULT_MAX_ANSWER_BYTES): RpcTransport {
  return async function boundedTransport<TResponse>({
    payload,
    signal,
  }: Parameters<RpcTransport>[0]): Promise<TResponse> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json; charset=utf-8' },
      body: stringifyWithBigInts(payload),
      ...(signal && { signal }),
    });
    if (!response.ok) {
      throw new SolanaError(SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR, {
        headers: response.headers,
        message: response.statusText,
        statusCode: response.status,
      });
    }
    return parseWithBigInts(await readCapped(url, response, maxBytes)) as TResponse;
  };
}
