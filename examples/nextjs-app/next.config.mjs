/** @type {import('next').NextConfig} */
const nextConfig = {
  // The console runs .next/standalone/server.js as the compute bundle: the standalone
  // output holds the server and only the node_modules it needs, so no `npm install`
  // happens where the app runs. (.next/static and public/ are served as static files.)
  output: 'standalone',
  // No image optimizer in the compute sandbox: serve images as they are.
  images: { unoptimized: true },
  // ... so sharp (an optional dependency of next, 19 MB) stays out of the bundle.
  outputFileTracingExcludes: { '*': ['node_modules/sharp/**', 'node_modules/@img/**'] },
};

export default nextConfig;
