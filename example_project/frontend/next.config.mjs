import { PHASE_DEVELOPMENT_SERVER } from "next/constants.js";

// The production build is a static export that Django serves from the same
// origin as the API, so the browser only ever talks to relative `/api` URLs.
const exportConfig = {
  output: "export",
  trailingSlash: true,
  images: { unoptimized: true },
  poweredByHeader: false,
  reactStrictMode: true,
};

export default function nextConfig(phase) {
  const proxyTarget = process.env.API_PROXY_TARGET || "http://127.0.0.1:8000";
  if (phase !== PHASE_DEVELOPMENT_SERVER || process.env.NEXT_PUBLIC_API_URL) {
    return exportConfig;
  }
  // `next dev` without NEXT_PUBLIC_API_URL: proxy /api to Django so the dev
  // server behaves like the single-origin deployment (no CORS needed).
  // Rewrites are not allowed together with `output: "export"`, hence the
  // dev-only config. The explicit trailing slash keeps Django's URLs intact.
  const { output, ...devConfig } = exportConfig;
  return {
    ...devConfig,
    // Let the dev server be opened as 127.0.0.1 as well as localhost.
    allowedDevOrigins: ["127.0.0.1", "localhost"],
    async rewrites() {
      return [
        { source: "/api/:path*/", destination: `${proxyTarget}/api/:path*/` },
      ];
    },
  };
}
