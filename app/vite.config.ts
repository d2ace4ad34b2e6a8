/// <reference types="vitest/config" />
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  // Relative asset paths: the build is plain static files, servable from any path.
  base: './',
  // @lifeline/client is linked (file:../clients/js) and has its own copy of kit for its
  // tests: the page uses one kit, its own.
  resolve: { dedupe: ['@solana/kit'] },
  build: { outDir: 'dist', target: 'es2022' },
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
});
