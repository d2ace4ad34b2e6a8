import { defineConfig } from 'tsup';

// ESM for browsers and Node, one file per entry (shared code in chunks), bundled .d.ts.
// @solana/kit is a peer dependency: never bundled.
export default defineConfig({
  entry: { index: 'src/index.ts', generated: 'src/program-client.ts' },
  format: ['esm'],
  platform: 'neutral',
  target: 'es2022',
  dts: true,
  clean: true,
  splitting: true,
  sourcemap: false,
  external: ['@solana/kit'],
});
