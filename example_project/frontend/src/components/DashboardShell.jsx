"use client";

import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { createContext, useCallback, useContext, useEffect, useRef, useState } from "react";
import { authAPI, demoAPI } from "@/lib/api";
import { getCachedUser, isLoggedIn } from "@/lib/auth";
import { timeAgo } from "@/lib/format";
import { PageLoader } from "@/components/ui";

const SessionContext = createContext({
  user: null,
  refreshUser: async () => null,
  notifications: [],
  refreshNotifications: async () => [],
});

export const useSession = () => useContext(SessionContext);

const NAV = [
  { href: "/dashboard/", label: "Overview", exact: true },
  { href: "/dashboard/subscription/", label: "Subscription" },
  { href: "/dashboard/tips/", label: "Tips" },
  { href: "/dashboard/get-paid/", label: "Get paid" },
  { href: "/dashboard/payments/", label: "Payments", exact: true },
  { href: "/dashboard/receipts/", label: "Receipts" },
  { href: "/dashboard/staff/", label: "Staff", staffOnly: true },
];

const SEEN_KEY = "skillswap.notifications.seen";
const POLL_MS = 15000;

export default function DashboardShell({ children }) {
  const router = useRouter();
  const pathname = usePathname();
  const [ready, setReady] = useState(false);
  const [user, setUser] = useState(null);
  const [notifications, setNotifications] = useState([]);
  const [seenId, setSeenId] = useState(null);
  const [menuOpen, setMenuOpen] = useState(false);
  const [navOpen, setNavOpen] = useState(false);
  const menuRef = useRef(null);

  // Client-side guard: the static export has no server to check the session.
  useEffect(() => {
    if (!isLoggedIn()) {
      const here = window.location.pathname + window.location.search;
      router.replace(`/login/?next=${encodeURIComponent(here)}`);
      return;
    }
    setUser(getCachedUser());
    setSeenId(window.localStorage.getItem(SEEN_KEY));
    setReady(true);
  }, [router]);

  const refreshUser = useCallback(async () => {
    try {
      const me = await authAPI.me();
      setUser(me);
      return me;
    } catch {
      return null;
    }
  }, []);

  const refreshNotifications = useCallback(async () => {
    try {
      const list = await demoAPI.notifications();
      const items = Array.isArray(list) ? list : list?.results || [];
      setNotifications(items);
      return items;
    } catch {
      return null; // notifications are a nicety; never block the page on them
    }
  }, []);

  useEffect(() => {
    if (!ready) return undefined;
    refreshUser();
    refreshNotifications();
    const timer = setInterval(refreshNotifications, POLL_MS);
    const onFocus = () => refreshNotifications();
    window.addEventListener("focus", onFocus);
    return () => {
      clearInterval(timer);
      window.removeEventListener("focus", onFocus);
    };
  }, [ready, refreshUser, refreshNotifications]);

  useEffect(() => {
    setNavOpen(false);
    setMenuOpen(false);
  }, [pathname]);

  useEffect(() => {
    if (!menuOpen) return undefined;
    const close = (e) => {
      if (menuRef.current && !menuRef.current.contains(e.target)) setMenuOpen(false);
    };
    const onKey = (e) => e.key === "Escape" && setMenuOpen(false);
    document.addEventListener("mousedown", close);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", close);
      document.removeEventListener("keydown", onKey);
    };
  }, [menuOpen]);

  const newest = notifications[0];
  const unread = seenId
    ? notifications.findIndex((n) => String(n.id) === seenId)
    : notifications.length;
  const unreadCount = unread < 0 ? notifications.length : unread;

  function toggleMenu() {
    const opening = !menuOpen;
    setMenuOpen(opening);
    if (opening && newest) {
      window.localStorage.setItem(SEEN_KEY, String(newest.id));
      setSeenId(String(newest.id));
    }
  }

  function logout() {
    authAPI.logout();
    router.replace("/login/");
  }

  if (!ready) return <PageLoader label="Checking your session…" />;

  const isActive = (item) =>
    item.exact ? pathname === item.href || pathname === item.href.slice(0, -1) : pathname.startsWith(item.href);

  return (
    <SessionContext.Provider value={{ user, refreshUser, notifications, refreshNotifications }}>
      <div className="app-shell">
        <header className="topbar">
          <div className="topbar-inner">
            <Link href="/dashboard/" className="brand">
              <span className="logo-mark" aria-hidden="true">S</span>
              <span className="logo-text">SkillSwap</span>
            </Link>
            <button
              type="button"
              className="nav-toggle"
              aria-label="Toggle navigation"
              aria-expanded={navOpen}
              onClick={() => setNavOpen((v) => !v)}
            >
              ☰
            </button>
            <nav className={`mainnav ${navOpen ? "open" : ""}`} aria-label="Main">
              {NAV.filter((item) => !item.staffOnly || user?.is_staff).map((item) => (
                <Link
                  key={item.href}
                  href={item.href}
                  className={`navlink ${isActive(item) ? "active" : ""}`}
                  aria-current={isActive(item) ? "page" : undefined}
                >
                  {item.label}
                </Link>
              ))}
            </nav>
            <div className="topbar-right">
              <div className="notif" ref={menuRef}>
                <button
                  type="button"
                  className="icon-btn"
                  aria-label={`Notifications${unreadCount ? ` (${unreadCount} new)` : ""}`}
                  aria-expanded={menuOpen}
                  aria-haspopup="true"
                  data-testid="notifications-button"
                  onClick={toggleMenu}
                >
                  <BellIcon />
                  {unreadCount > 0 && (
                    <span className="notif-count" data-testid="notifications-count">
                      {unreadCount > 9 ? "9+" : unreadCount}
                    </span>
                  )}
                </button>
                {menuOpen && (
                  <div className="notif-menu" data-testid="notifications-menu">
                    <div className="notif-head">Notifications</div>
                    {notifications.length === 0 ? (
                      <p className="notif-empty muted">
                        Nothing yet. Payments you make or receive show up here.
                      </p>
                    ) : (
                      <ul className="notif-list">
                        {notifications.slice(0, 8).map((n) => (
                          <li key={n.id} className="notif-item">
                            <span className={`notif-dot kind-${n.kind}`} aria-hidden="true" />
                            <div>
                              <div className="notif-text">{n.text}</div>
                              <div className="notif-time muted">{timeAgo(n.created_at)}</div>
                            </div>
                          </li>
                        ))}
                      </ul>
                    )}
                    <Link href="/dashboard/" className="notif-all">
                      View all activity
                    </Link>
                  </div>
                )}
              </div>
              <span className="user-chip" data-testid="current-user" title="Logged in">
                <span className="avatar" aria-hidden="true">
                  {(user?.username || "?").charAt(0).toUpperCase()}
                </span>
                <span className="user-name">{user?.username || "…"}</span>
              </span>
              <button type="button" className="btn btn-ghost btn-sm" onClick={logout}>
                Logout
              </button>
            </div>
          </div>
        </header>
        <main className="content">{children}</main>
        <footer className="footer muted">
          Payments are processed by Stripe Checkout. Card details never touch this site.
        </footer>
      </div>
    </SessionContext.Provider>
  );
}

function BellIcon() {
  return (
    <svg width="20" height="20" viewBox="0 0 24 24" fill="none" aria-hidden="true">
      <path
        d="M6 9a6 6 0 1 1 12 0c0 5 2 6.5 2 6.5H4S6 14 6 9Z"
        stroke="currentColor"
        strokeWidth="1.8"
        strokeLinejoin="round"
      />
      <path d="M10 19a2 2 0 0 0 4 0" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
    </svg>
  );
}
