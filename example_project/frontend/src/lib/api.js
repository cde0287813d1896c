import axios from "axios";
import {
  clearTokens,
  getAccessToken,
  getRefreshToken,
  redirectToLogin,
  setCachedUser,
  setTokens,
} from "./auth";

// Relative by default: the exported site is served by Django on the API's origin.
export const API_BASE_URL = process.env.NEXT_PUBLIC_API_URL || "/api";

const api = axios.create({
  baseURL: API_BASE_URL,
  headers: { "Content-Type": "application/json", Accept: "application/json" },
  timeout: 30000,
});

const AUTH_PATHS = ["/auth/token/", "/auth/token/refresh/"];
const isAuthCall = (config) => AUTH_PATHS.some((p) => (config?.url || "").endsWith(p));

api.interceptors.request.use((config) => {
  const token = getAccessToken();
  if (token && !isAuthCall(config)) {
    config.headers.Authorization = `Bearer ${token}`;
  }
  return config;
});

// One refresh at a time: concurrent 401s all wait for the same request.
let refreshing = null;

function refreshAccessToken() {
  if (!refreshing) {
    const refresh = getRefreshToken();
    refreshing = (refresh
      ? axios.post(`${API_BASE_URL}/auth/token/refresh/`, { refresh })
      : Promise.reject(new Error("No refresh token"))
    )
      .then(({ data }) => {
        setTokens({ access: data.access, refresh: data.refresh });
        return data.access;
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

// Turn any failure into an Error whose message is the server's `error` text
// and whose `detail` is its optional `message`, so pages can toast it as-is.
export function normalizeError(error) {
  const data = error?.response?.data;
  let title = null;
  let detail = null;
  if (data && typeof data === "object") {
    title = data.error || data.detail || null;
    detail = data.message || null;
    if (!title) {
      // DRF field errors: {"amount": ["Ensure ..."]}
      const [field, value] = Object.entries(data)[0] || [];
      if (field) title = `${field}: ${Array.isArray(value) ? value.join(" ") : String(value)}`;
    }
  } else if (typeof data === "string" && data && data.length < 200) {
    title = data;
  }
  if (!title) {
    if (error?.code === "ECONNABORTED") title = "The server took too long to respond";
    else if (!error?.response) title = "Cannot reach the server. Is the API running?";
    else title = `Request failed (HTTP ${error.response.status})`;
  }
  const err = error instanceof Error ? error : new Error(title);
  err.message = title;
  err.detail = detail;
  err.status = error?.response?.status ?? null;
  err.data = data ?? null;
  return err;
}

api.interceptors.response.use(
  (response) => response,
  async (error) => {
    const original = error?.config;
    const status = error?.response?.status;
    if (status === 401 && original && !isAuthCall(original)) {
      if (!original._retried && getRefreshToken()) {
        original._retried = true;
        try {
          const access = await refreshAccessToken();
          original.headers.Authorization = `Bearer ${access}`;
          return api(original);
        } catch {
          // fall through: the session is over
        }
      }
      clearTokens();
      redirectToLogin();
    }
    return Promise.reject(normalizeError(error));
  },
);

const successUrl = () =>
  `${window.location.origin}/dashboard/payments/success/?session_id={CHECKOUT_SESSION_ID}`;
const cancelUrl = () => `${window.location.origin}/dashboard/payments/cancel/`;

const RETURN_KEY = "skillswap.checkout.returnTo";
const LAST_CHECKOUT_KEY = "skillswap.checkout.last";

// The URLs handed to Checkout. `returnTo` is where "Go back" on the cancel
// page leads (browser history would only lead back into Stripe's page).
export function checkoutUrls(returnTo) {
  if (returnTo) window.sessionStorage.setItem(RETURN_KEY, returnTo);
  return { successUrl: successUrl(), cancelUrl: cancelUrl() };
}

// Stripe fills in {CHECKOUT_SESSION_ID} only in the success URL, so the cancel
// page learns which checkout was abandoned from what this tab opened last.
export function rememberCheckout(sessionId) {
  if (sessionId) window.sessionStorage.setItem(LAST_CHECKOUT_KEY, sessionId);
}

export function lastCheckout() {
  if (typeof window === "undefined") return null;
  return window.sessionStorage.getItem(LAST_CHECKOUT_KEY);
}

export function forgetCheckout(sessionId) {
  if (lastCheckout() === sessionId) window.sessionStorage.removeItem(LAST_CHECKOUT_KEY);
}

export function checkoutReturnPath(fallback = "/dashboard/subscription/") {
  if (typeof window === "undefined") return fallback;
  const path = window.sessionStorage.getItem(RETURN_KEY);
  return path && path.startsWith("/") && !path.startsWith("//") ? path : fallback;
}

export const authAPI = {
  async login(username, password) {
    const { data } = await api.post("/auth/token/", { username, password });
    setTokens(data);
    return data;
  },
  async refresh() {
    return refreshAccessToken();
  },
  async me() {
    const { data } = await api.get("/auth/me/");
    setCachedUser(data);
    return data;
  },
  logout() {
    clearTokens();
  },
};

export const paymentAPI = {
  // Premium is a one-time payment through Stripe Checkout, in one of the accepted
  // currencies (the server's default when `currency` is left out).
  async createPremiumCheckout(successUrl, cancelUrl, currency) {
    const { data } = await api.post("/payments/premium/create-checkout/", compact({
      success_url: successUrl,
      cancel_url: cancelUrl,
      currency,
    }));
    return data;
  },
  // The accepted currencies with their premium price and tip limits.
  async getPriceList() {
    const { data } = await api.get("/payments/currencies/");
    return data;
  },
  // Kept for callers written against the older subscription flow.
  async createSubscriptionCheckout(successUrl, cancelUrl) {
    return paymentAPI.createPremiumCheckout(successUrl, cancelUrl);
  },
  async getSubscriptionStatus() {
    const { data } = await api.get("/payments/subscription/status/");
    return data;
  },
  async createTipCheckout(toUserId, amount, message, successUrl, cancelUrl, currency) {
    const { data } = await api.post("/payments/tip/create/", {
      to_user_id: toUserId,
      amount,
      message,
      success_url: successUrl,
      cancel_url: cancelUrl,
      ...(currency ? { currency } : {}),
    });
    return data;
  },
  async getTipHistory(params = {}) {
    const { data } = await api.get("/payments/tip/history/", { params: compact(params) });
    return data;
  },
  async confirmCheckout(sessionId) {
    const { data } = await api.get(`/payments/checkout/${encodeURIComponent(sessionId)}/`);
    return data;
  },
  // Expires an abandoned Checkout Session; 409 if it was paid meanwhile.
  async cancelCheckout(sessionId) {
    const { data } = await api.post(`/payments/checkout/${encodeURIComponent(sessionId)}/cancel/`);
    return data;
  },
  async getPaymentHistory(filters = {}) {
    const { data } = await api.get("/payments/payments/history/", { params: compact(filters) });
    return data;
  },
};

// Stripe Connect: recipients onboard an account so their tips are paid out to them.
export const connectAPI = {
  async onboard(refreshUrl, returnUrl) {
    const { data } = await api.post("/payments/connect/onboard/", {
      refresh_url: refreshUrl,
      return_url: returnUrl,
    });
    return data;
  },
  async status() {
    const { data } = await api.get("/payments/connect/status/");
    return data;
  },
};

// The operator's endpoints (staff only).
export const staffAPI = {
  async listPayments(filters = {}) {
    const { data } = await api.get("/payments/payments/", { params: compact(filters) });
    return data;
  },
  async refund(paymentId, { amount, reason } = {}) {
    const body = compact({ amount, reason });
    const { data } = await api.post(`/payments/payments/${encodeURIComponent(paymentId)}/refund/`, body);
    return data;
  },
  async disputes(filters = {}) {
    const { data } = await api.get("/payments/payments/disputes/", { params: compact(filters) });
    return data;
  },
  async analytics(params) {
    const { data } = await api.get("/payments/payments/analytics/", { params: compact(params) });
    return data;
  },
};

export const demoAPI = {
  async recipients() {
    const { data } = await api.get("/demo/recipients/");
    return data;
  },
  async notifications() {
    const { data } = await api.get("/demo/notifications/");
    return data;
  },
  async receipts() {
    const { data } = await api.get("/demo/receipts/");
    return data;
  },
};

function compact(params) {
  return Object.fromEntries(
    Object.entries(params || {}).filter(([, v]) => v !== undefined && v !== null && v !== ""),
  );
}

export default api;
