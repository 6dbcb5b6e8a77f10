// The example page of jwtauth's cookie transport: an "account security" page.
//
// The access and refresh tokens live in HttpOnly cookies that the browser sends by
// itself: this script never reads, stores or sends a token. Unsafe requests carry
// Django's CSRF token (from the non-HttpOnly `csrftoken` cookie) in `X-CSRFToken`.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const REFRESH_LOCK = "jwtauth-example-refresh";
  const DEVICES_EVERY = 30_000; // ms: how often a visible page looks at its devices
  const channel = "BroadcastChannel" in window ? new BroadcastChannel("jwtauth-example") : null;

  let signedIn = false;
  let expiresAt = null; // when the access token expires (ms since the epoch), once known
  let lastRefreshAt = 0; // when this tab, or another one, last refreshed
  let refreshTimer = null;
  let ticker = null;
  let devicesTimer = null;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]*)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function call(method, url, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        "X-CSRFToken": csrfToken(),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    if (response.status !== 204) {
      try {
        data = await response.json();
      } catch {
        data = null;
      }
    }
    return { status: response.status, data };
  }

  const errorOf = (result) => (result.data && result.data.error) || { code: "", message: "" };

  // ---- tokens: one refresh at a time, in every tab of this browser ----

  // Refresh a little before the access token expires: a minute early, or a fifth of
  // its lifetime when that is shorter.
  const marginFor = (lifetime) => Math.min(60_000, lifetime / 5);

  function tokenRefreshed(expiresIn, at, tell) {
    lastRefreshAt = Math.max(lastRefreshAt, at);
    expiresAt = at + expiresIn * 1000;
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(
      scheduledRefresh,
      Math.max(0, expiresAt - marginFor(expiresIn * 1000) - Date.now()),
    );
    showExpiry();
    if (tell && channel) {
      channel.postMessage({ type: "refreshed", expiresIn, at });
    }
  }

  // With rotation, two refreshes with the same cookie look like token theft and end the
  // session. Web Locks serialise the tabs (they need a secure context: https, or
  // http://127.0.0.1 and localhost); within a tab, callers share one promise. A tab that
  // waited for the lock while another refreshed (it heard so on the channel) does not
  // refresh again.
  let refreshing = null;
  function refresh(neededSince = Date.now()) {
    if (refreshing === null) {
      const attempt = async () => {
        if (lastRefreshAt > neededSince) {
          return { status: 200, data: null };
        }
        const startedAt = Date.now();
        const result = await call("POST", "/auth/refresh/", {});
        if (result.status === 200) {
          tokenRefreshed(result.data.expiresIn, startedAt, true);
        }
        return result;
      };
      const locked = navigator.locks ? navigator.locks.request(REFRESH_LOCK, attempt) : attempt();
      refreshing = locked.finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  }

  async function scheduledRefresh() {
    // Unless another tab has refreshed since this one's token was issued.
    const result = await refresh(lastRefreshAt);
    if (result.status !== 200) {
      signedOut(result);
    }
  }

  // The access cookie's Max-Age equals the token's lifetime, so an expired token
  // usually shows up as no token at all: both mean "refresh, then try again". When the
  // refresh fails, its answer says why.
  async function withRefresh(method, url, body) {
    const sentAt = Date.now();
    const result = await call(method, url, body);
    const code = errorOf(result).code;
    if (result.status === 401 && (code === "TOKEN_EXPIRED" || code === "NO_TOKEN")) {
      const refreshed = await refresh(sentAt);
      return refreshed.status === 200 ? call(method, url, body) : refreshed;
    }
    return result;
  }

  // ---- what the page shows ----

  function setStatus(text, kind = "") {
    const status = $("status");
    status.textContent = text;
    status.className = kind;
  }

  function clock(moment) {
    return new Date(moment).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function showExpiry() {
    if (expiresAt === null) {
      return;
    }
    const seconds = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
    const left = seconds >= 60 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${seconds} s`;
    $("token-expiry").textContent = `expires at ${clock(expiresAt)} (in ${left}); refreshed before it does`;
  }

  function stopTimers() {
    clearTimeout(refreshTimer);
    clearInterval(ticker);
    clearInterval(devicesTimer);
    refreshTimer = ticker = devicesTimer = null;
  }

  function showSignedOut(text, kind = "") {
    signedIn = false;
    expiresAt = null;
    stopTimers();
    $("account").hidden = true;
    $("login-form").hidden = false;
    for (const id of ["user-username", "user-email", "user-id", "user-roles"]) {
      $(id).textContent = "";
    }
    $("token-expiry").textContent = "—";
    $("devices").replaceChildren();
    setStatus(text, kind);
  }

  // Why a request failed, told to a person: a session ended elsewhere is not a neutral
  // "not signed in".
  function signedOut(result) {
    const code = errorOf(result).code;
    if (code === "TOKEN_REVOKED") {
      showSignedOut("You were signed out: this session was ended from another device.", "ended");
    } else if (code === "INVALID_REFRESH_TOKEN") {
      showSignedOut(
        "You were signed out: this session was ended from another device, or it expired.",
        "ended",
      );
    } else if (signedIn) {
      showSignedOut("Your session has ended; please sign in again.", "ended");
    } else if (result.status === 401) {
      showSignedOut("Not signed in");
    } else {
      setStatus(errorOf(result).message || `Something went wrong (${result.status})`, "error");
    }
  }

  function showUser(user) {
    $("user-username").textContent = user.username;
    $("user-email").textContent = user.email || "—";
    $("user-id").textContent = user.id;
    $("user-roles").textContent = user.roles.length ? user.roles.join(", ") : "—";
    $("login-form").hidden = true;
    $("account").hidden = false;
    setStatus(`Signed in as ${user.username}`);
    if (!signedIn) {
      signedIn = true;
      ticker = setInterval(showExpiry, 1000);
      devicesTimer = setInterval(() => {
        if (document.visibilityState === "visible") {
          loadDevices();
        }
      }, DEVICES_EVERY);
    }
  }

  // ---- devices: the user's sessions ----

  const BROWSERS = [
    // Order matters: Edge and Opera say "Chrome" too, Chrome says "Safari".
    ["Edge", /Edg(?:e|A|iOS)?\/(\d+)/],
    ["Opera", /OPR\/(\d+)/],
    ["Firefox", /(?:Firefox|FxiOS)\/(\d+)/],
    ["Chrome", /(?:HeadlessChrome|Chrome|CriOS|Chromium)\/(\d+)/],
    ["Safari", /Version\/(\d+)[\d.]* (?:Mobile\/\S+ )?Safari\//],
  ];
  const SYSTEMS = [
    ["Android", "Android"],
    ["iPhone", "iOS"],
    ["iPad", "iPadOS"],
    ["Windows", "Windows"],
    ["Mac OS X", "macOS"],
    ["CrOS", "ChromeOS"],
    ["Linux", "Linux"],
  ];

  function describe(userAgent) {
    const agent = userAgent || "";
    let browser = null;
    for (const [name, pattern] of BROWSERS) {
      const match = agent.match(pattern);
      if (match) {
        browser = `${name} ${match[1]}`;
        break;
      }
    }
    const system = (SYSTEMS.find(([token]) => agent.includes(token)) || [])[1];
    if (browser && system) {
      return `${browser} on ${system}`;
    }
    return browser || system || agent.slice(0, 40) || "Unknown device";
  }

  function ago(moment) {
    const seconds = Math.round((Date.now() - new Date(moment).getTime()) / 1000);
    if (seconds < 60) {
      return "just now";
    }
    if (seconds < 3600) {
      return `${Math.floor(seconds / 60)} min ago`;
    }
    if (seconds < 86400) {
      return `${Math.floor(seconds / 3600)} h ago`;
    }
    return new Date(moment).toLocaleDateString();
  }

  function deviceItem(session) {
    const item = $("device-template").content.firstElementChild.cloneNode(true);
    const name = describe(session.userAgent);
    item.dataset.sessionId = session.id;
    item.querySelector(".device-name").textContent = name;
    item.querySelector(".device-details").textContent =
      `${session.ipAddress || "unknown address"} · last used ${ago(session.lastUsedAt)} · ` +
      `signed in ${new Date(session.createdAt).toLocaleDateString()}`;
    const button = item.querySelector(".revoke");
    if (session.current) {
      item.classList.add("current");
      item.querySelector(".badge").hidden = false;
      button.remove();
    } else {
      button.setAttribute("aria-label", `Sign out ${name}`);
      button.addEventListener("click", () => revokeDevice(session.id, name, button));
    }
    return item;
  }

  async function loadDevices() {
    const result = await withRefresh("GET", "/auth/sessions/");
    if (result.status !== 200) {
      signedOut(result);
      return;
    }
    const current = result.data.filter((session) => session.current);
    const others = result.data.filter((session) => !session.current);
    $("devices").replaceChildren(...[...current, ...others].map(deviceItem));
  }

  async function revokeDevice(sessionId, name, button) {
    button.disabled = true;
    const result = await withRefresh("DELETE", `/auth/sessions/${encodeURIComponent(sessionId)}/`);
    if (result.status === 204 || result.status === 404) {
      setStatus(`Signed out ${name}`);
      await loadDevices();
    } else {
      button.disabled = false;
      signedOut(result);
    }
  }

  // ---- signing in and out ----

  async function load() {
    const result = await withRefresh("GET", "/api/me/");
    if (result.status !== 200) {
      signedOut(result);
      return;
    }
    showUser(result.data);
    if (expiresAt === null) {
      // Signed in before this page opened: only a refresh tells when the token expires.
      await refresh();
    }
    await loadDevices();
  }

  async function logIn(event) {
    event.preventDefault();
    setStatus("Signing in…");
    const startedAt = Date.now();
    const result = await call("POST", "/auth/login/", {
      username: $("username").value,
      password: $("password").value,
      transport: "cookie",
    });
    $("password").value = "";
    if (result.status === 200) {
      tokenRefreshed(result.data.expiresIn, startedAt, false);
      if (channel) {
        channel.postMessage({ type: "signed-in" });
      }
      await load();
    } else {
      showSignedOut(errorOf(result).message || `Login failed (${result.status})`, "error");
    }
  }

  async function refreshNow() {
    const result = await refresh();
    if (result.status === 200) {
      await load();
      setStatus(`Tokens refreshed; signed in as ${$("user-username").textContent}`);
    } else {
      signedOut(result);
    }
  }

  async function logOut(url, message) {
    const result = await withRefresh("POST", url, {});
    if (result.status === 204 || result.status === 401) {
      showSignedOut(message);
      if (channel) {
        channel.postMessage({ type: "signed-out", message });
      }
    } else {
      setStatus(errorOf(result).message || `Logout failed (${result.status})`, "error");
    }
  }

  if (channel) {
    channel.addEventListener("message", ({ data }) => {
      if (data.type === "refreshed" && signedIn) {
        tokenRefreshed(data.expiresIn, data.at, false);
      } else if (data.type === "signed-in" && !signedIn) {
        load();
      } else if (data.type === "signed-out" && signedIn) {
        showSignedOut(data.message);
      }
    });
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && signedIn) {
      loadDevices();
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    $("login-form").addEventListener("submit", logIn);
    $("whoami").addEventListener("click", load);
    $("refresh").addEventListener("click", refreshNow);
    $("logout").addEventListener("click", () => logOut("/auth/logout/", "Logged out"));
    $("logout-all").addEventListener("click", () =>
      logOut("/auth/logout-all/", "Logged out everywhere"),
    );
    load();
  });
})();
