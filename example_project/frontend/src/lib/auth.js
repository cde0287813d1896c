// Token storage. The demo keeps JWTs in localStorage, like the reference
// front end; a production site may prefer httpOnly cookies.
const ACCESS_KEY = "skillswap.access";
const REFRESH_KEY = "skillswap.refresh";
const USER_KEY = "skillswap.user";

const hasStorage = () => typeof window !== "undefined" && !!window.localStorage;

export function getAccessToken() {
  return hasStorage() ? window.localStorage.getItem(ACCESS_KEY) : null;
}

export function getRefreshToken() {
  return hasStorage() ? window.localStorage.getItem(REFRESH_KEY) : null;
}

export function setTokens({ access, refresh }) {
  if (!hasStorage()) return;
  if (access) window.localStorage.setItem(ACCESS_KEY, access);
  if (refresh) window.localStorage.setItem(REFRESH_KEY, refresh);
}

export function clearTokens() {
  if (!hasStorage()) return;
  window.localStorage.removeItem(ACCESS_KEY);
  window.localStorage.removeItem(REFRESH_KEY);
  window.localStorage.removeItem(USER_KEY);
}

export function isLoggedIn() {
  return !!getAccessToken();
}

// A cached copy of /auth/me/ so the nav can render the username immediately.
export function getCachedUser() {
  if (!hasStorage()) return null;
  try {
    return JSON.parse(window.localStorage.getItem(USER_KEY) || "null");
  } catch {
    return null;
  }
}

export function setCachedUser(user) {
  if (hasStorage()) window.localStorage.setItem(USER_KEY, JSON.stringify(user));
}

// Only same-site paths are accepted as post-login destinations.
export function safeNextPath(next, fallback = "/dashboard/subscription/") {
  if (typeof next !== "string" || !next.startsWith("/") || next.startsWith("//")) {
    return fallback;
  }
  if (next.startsWith("/login")) return fallback;
  return next;
}

export function redirectToLogin() {
  if (typeof window === "undefined") return;
  const here = window.location.pathname + window.location.search;
  if (window.location.pathname.startsWith("/login")) return;
  window.location.assign(`/login/?next=${encodeURIComponent(here)}`);
}
