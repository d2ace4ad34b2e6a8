// A real Lifeline network for the tests, made the way an operator makes one: the built
// binaries only — `lifeline localnet` on free ports with fault endpoints, `lifeline keygen`
// and `airdrop`, `lifeline apply` with a topology file, and `lifeline-keeper run` per
// keeper. Everything started here is stopped by `stop()` (and on process exit).
//
// Binaries: $LIFELINE_BIN_DIR, else $CARGO_TARGET_DIR/debug, else <repo>/target/debug
// (`cargo build -p lifeline-cli -p lifeline-keeper`).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import type { Address } from '@solana/kit';

const repo = resolve(fileURLToPath(new URL('../../../..', import.meta.url)));
export const binDir =
  process.env.LIFELINE_BIN_DIR ?? join(process.env.CARGO_TARGET_DIR ?? join(repo, 'target'), 'debug');
const bin = (name: string) => join(binDir, name);

export function binariesMissing(): string | null {
  for (const name of ['lifeline', 'lifeline-keeper']) {
    if (!existsSync(bin(name))) {
      return `${bin(name)} is missing: run \`cargo build -p lifeline-cli -p lifeline-keeper\` (or set LIFELINE_BIN_DIR)`;
    }
  }
  return null;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function start(name: string, args: string[], log: string[]): ChildProcess {
  const child = spawn(bin(name), args, { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() });
  children.add(child);
  child.on('exit', () => children.delete(child));
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      log.push(line);
      if (log.length > 2_000) log.splice(0, 1_000);
    });
  }
  return child;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('LIFELINE_') && k !== 'LIFELINE_BIN_DIR') delete env[k];
  return env;
}

/** Runs `lifeline args…` to completion; returns stdout, throws with stderr on failure. */
export function lifeline(args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(bin('lifeline'), args, { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise(out);
      else reject(new Error(`lifeline ${args.join(' ')} exited ${code}:\n${out}${err}`));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once('error', () => resolvePort(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePort(true)));
  });
}

/** `n` consecutive free ports (the fault endpoints take consecutive ports). */
async function freePorts(n: number): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = await portFree(base + i);
    if (ok) return base;
  }
  throw new Error(`no ${n} consecutive free ports`);
}

export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs: number,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export type FaultMode =
  'healthy' | 'frozen' | 'down' | `lagging ${number}` | `slow ${number}` | `errors ${number}` | `future ${number}`;

export interface Localnet {
  rpcUrl: string;
  wsUrl: string;
  adminUrl: string;
  /** ep0, ep1, … */
  endpointUrls: string[];
  log: string[];
  fault(endpoint: number, mode: FaultMode): Promise<void>;
  stop(): Promise<void>;
}

export async function startLocalnet({ endpoints = 3, slotMs = 100 } = {}): Promise<Localnet> {
  const missing = binariesMissing();
  if (missing) throw new Error(missing);
  const [rpc, ws, admin] = [await freePort(), await freePort(), await freePort()];
  const base = await freePorts(endpoints);
  const log: string[] = [];
  const child = start(
    'lifeline',
    [
      'localnet',
      '--slot-ms',
      String(slotMs),
      '--endpoints',
      String(endpoints),
      '--rpc-port',
      String(rpc),
      '--ws-port',
      String(ws),
      '--admin-port',
      String(admin),
      '--endpoint-base-port',
      String(base),
    ],
    log,
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitUntil(
    'the localnet to start',
    () => {
      if (child.exitCode !== null) throw new Error(`lifeline localnet exited ${child.exitCode}:\n${log.join('\n')}`);
      return log.some((l) => l.startsWith('Ctrl-C'));
    },
    30_000,
  );
  const adminUrl = `http://127.0.0.1:${admin}`;
  return {
    rpcUrl: `http://127.0.0.1:${rpc}`,
    wsUrl: `ws://127.0.0.1:${ws}`,
    adminUrl,
    endpointUrls: Array.from({ length: endpoints }, (_, i) => `http://127.0.0.1:${base + i}`),
    log,
    async fault(endpoint, mode) {
      const res = await fetch(`${adminUrl}/endpoints/ep${endpoint}/fault`, { method: 'POST', body: mode });
      if (!res.ok) throw new Error(`admin API refused ${mode} for ep${endpoint}: ${res.status} ${await res.text()}`);
      if (mode === 'down') {
        // Until the port is really closed a pooled connection could still answer.
        const url = `http://127.0.0.1:${base + endpoint}`;
        await waitUntil(
          `ep${endpoint} to go down`,
          () =>
            fetch(url, { method: 'POST', body: '{}' }).then(
              () => false,
              () => true,
            ),
          5_000,
        );
      }
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Fast failover for tests (100 ms slots): the chaos suite's policy (tests/src/chaos.rs). */
const POLICY = {
  staleness_slots: 30,
  cooldown_slots: 30,
  quarantine_base_slots: 100,
  quarantine_max_slots: 1_000,
  probation_slots: 20,
  lag_degraded_slots: 4,
  lag_down_slots: 8,
  latency_degraded_ms: 150,
  latency_down_ms: 200,
};

export interface TestNetwork {
  localnet: Localnet;
  network: Address;
  /** The authority's keypair file (signs `lifeline failover`). */
  authority: string;
  keeperLog: string[];
  /** Manual failover of group 0 to the endpoint `toId` (`lifeline failover`). */
  failover(toId: number, options?: { quarantine?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A network on `localnet` whose group 0 is every fault endpoint (ep0 primary, the others
 * standbys by priority), with `keepers` real keepers probing it.
 */
export async function startNetwork(
  localnet: Localnet,
  { keepers = 4, name = 'jsclient', probeIntervalMs = 250 } = {},
): Promise<TestNetwork> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-js-'));
  const url = localnet.rpcUrl;
  const key = async (file: string) => {
    const path = join(dir, file);
    const pubkey = (await lifeline(['keygen', '-o', path])).trim();
    await lifeline(['airdrop', '-u', url, path, '100']);
    return { path, pubkey };
  };
  const authority = await key('authority.json');
  const keeperKeys = await Promise.all(Array.from({ length: keepers }, (_, i) => key(`keeper${i}.json`)));
  const toml = [
    `[network]\nname = "${name}"\n`,
    `[policy]\n${Object.entries(POLICY)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n')}\n`,
    ...keeperKeys.map((k, i) => `[[keeper]]\npubkey = "${k.pubkey}"\nregion = "r${i}"\nprovider = "p${i}"\n`),
    ...localnet.endpointUrls.map(
      (u, i) =>
        `[[endpoint]]\ngroup = 0\nkind = "rpc"\nrole = "${i === 0 ? 'primary' : 'standby'}"\nurl = "${u}"\nregion = "e${i}"\nprovider = "q${i}"\npriority = ${i}\n`,
    ),
  ].join('\n');
  const file = join(dir, 'topology.toml');
  writeFileSync(file, toml);
  const applied = await lifeline(['apply', '-f', file, '-u', url, '-k', authority.path]);
  const network = applied.match(/network "[^"]+" at (\w+)/)?.[1] as Address | undefined;
  if (!network) throw new Error(`no network address in the output of apply:\n${applied}`);

  const keeperLog: string[] = [];
  const daemons = keeperKeys.map((k) =>
    start(
      'lifeline-keeper',
      [
        'run',
        '--network',
        network,
        '-u',
        url,
        '-k',
        k.path,
        '--probe-interval-ms',
        String(probeIntervalMs),
        '--jitter-ms',
        '100',
        '--metrics-addr',
        '127.0.0.1:0',
      ],
      keeperLog,
    ),
  );

  return {
    localnet,
    network,
    authority: authority.path,
    keeperLog,
    async failover(toId, { quarantine = false } = {}) {
      await lifeline([
        'failover',
        '-u',
        url,
        '-k',
        authority.path,
        '--network',
        network,
        '--group',
        '0',
        '--to',
        String(toId),
        ...(quarantine ? ['--quarantine'] : []),
      ]);
    },
    async stop() {
      await Promise.all(
        daemons.map(
          (d) =>
            new Promise<void>((r) => {
              if (d.exitCode !== null) return r();
              d.once('exit', () => r());
              d.kill('SIGTERM');
              setTimeout(() => d.kill('SIGKILL'), 5_000).unref();
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
