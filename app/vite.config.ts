/// <reference types="vitest/config" />
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  // Relative asset paths: the build is plain static files, servable from any path.
  base: './',
  build: { outDir: 'dist', target: 'es2022' },
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
});
